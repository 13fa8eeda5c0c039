"""Which Kafka failures are a record's own fault and which are the broker's (I/O shell).

aiokafka marks some errors `retriable`, but not in the sense the processing loop needs: a
produce that times out because the broker is gone is `KafkaTimeoutError`, not retriable there,
yet it will succeed once the broker is back; a record the broker refuses as too large is
refused again on every try. The loop asks one question of every failure, through `classify`:
will trying again ever help? `TransientError` (retriable) means wait and retry the same work;
`PoisonRecord` (not retriable) means this record can never succeed, so it goes to the DLQ and
the partition moves on.
"""

from __future__ import annotations

from aiokafka.errors import (
    CorruptRecordException,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnsupportedCodecError,
)

from pipeline.errors import MimamoriError, PoisonRecord, TransientError

#: Fetch failures caused by the bytes of a record batch: fetching it again fails again.
_UNDECODABLE = (CorruptRecordException, UnsupportedCodecError, RecordTooLargeError)
#: Produce failures caused by the record being sent: sending it again fails again. TypeError
#: and ValueError come from the client's own checks of a key, value or header.
_UNPRODUCIBLE = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError,
                 CorruptRecordException, InvalidTimestampError, TypeError, ValueError)


def describe(exc: BaseException) -> str:
    """`Type: message`, or just the type when the message is empty."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def classify_fetch(exc: BaseException) -> MimamoriError:
    """A fetch failure as `PoisonRecord("undecodable")` or `TransientError`."""
    if isinstance(exc, _UNDECODABLE):
        return PoisonRecord("undecodable", describe(exc))
    return TransientError(describe(exc))


def classify_produce(exc: BaseException) -> MimamoriError:
    """A produce failure as `PoisonRecord("unproducible")` or `TransientError`."""
    if isinstance(exc, _UNPRODUCIBLE):
        return PoisonRecord("unproducible", describe(exc))
    return TransientError(describe(exc))
