"""Dead-letter records (I/O shell helper, no network).

A record that can never be processed goes to `<input topic>.dlq` byte for byte: the original
key and value (null stays null), the original headers under `dlq.original.header.<name>`, and the
reason in `dlq.*` headers. A DLQ topic allows larger records than its input
(`topics.dlq_max_message_bytes`, set as `max.message.bytes` by `create-topics`), so the copy of a
record of the input's full size fits with its headers. Where even that cannot hold it, the copy
keeps as much of the value as fits and says so: `dlq.truncated`, `dlq.original.size` and
`dlq.original.sha256` of the whole value.
"""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import UTC, datetime
from typing import NamedTuple

from aiokafka import ConsumerRecord

from pipeline.config import TopicsConfig

Record = ConsumerRecord[bytes, bytes]
Headers = list[tuple[str, bytes]]

#: Prefix of an original record header kept on its DLQ copy.
ORIGINAL_HEADER = "dlq.original.header."
#: Room kept for the record framing that Kafka adds around key, value and headers.
_FRAMING_BYTES = 512
_MAX_MESSAGE_CHARS = 1000


class Output(NamedTuple):
    """One record to produce.

    Attributes:
        topic: where it goes.
        key: its key (None for no key).
        value: its value (None for a tombstone or a DLQ copy of one).
        headers: its headers.
        dlq_reason: for a DLQ record, the reason (counted when the batch commits).
        origin: the input record it was derived from, so that an output the broker refuses
            sends that input to the DLQ instead.
        partition: the partition to write to, or None for the producer's partitioner (the
            key's hash). The enforcer pins its changelog records to their input's partition.
    """

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers | None = None
    dlq_reason: str | None = None
    origin: Record | None = None
    partition: int | None = None


def utc_now() -> str:
    """The current time as an RFC 3339 string in UTC, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def size_of(output: Output) -> int:
    """Bytes of key, value and headers (what counts against a topic's message size limit)."""
    return (len(output.key or b"") + len(output.value or b"")
            + sum(len(name) + len(value) for name, value in output.headers or ()))


class DeadLetters:
    """Builds the DLQ copies of one service's input records."""

    def __init__(self, topics: TopicsConfig, worker: str | None = None) -> None:
        self._suffix = topics.dlq_suffix
        self.max_bytes = topics.dlq_max_message_bytes
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"

    def topic(self, input_topic: str) -> str:
        """The DLQ topic of an input topic."""
        return input_topic + self._suffix

    def record(self, record: Record, reason: str, message: str) -> Output:
        """The DLQ copy of `record`, cut to fit when it is larger than the DLQ allows."""
        headers = self._headers(record.topic, record.partition, record.offset, reason, message)
        headers += [(ORIGINAL_HEADER + name, value or b"") for name, value in record.headers]
        value = record.value
        if record.key is None and value is None:
            # Kafka clients refuse a record with neither; say so rather than invent a key.
            value = b""
            headers.append(("dlq.original.null", b"key,value"))
        output = Output(self.topic(record.topic), record.key, value, headers, reason)
        if size_of(output) + _FRAMING_BYTES <= self.max_bytes:
            return output
        return self.truncated(output, self.max_bytes)

    def unreadable(self, topic: str, partition: int, offset: int, message: str) -> Output:
        """The DLQ record standing for a record whose batch cannot be read at all: no key, an
        empty value, only where it was and why."""
        headers = self._headers(topic, partition, offset, "undecodable", message)
        return Output(self.topic(topic), None, b"", headers, "undecodable")

    def refused(self, output: Output, input_topic: str, message: str) -> Output:
        """An output with no input record behind it that the broker refused: the output
        itself, on the DLQ of the service's first input topic, with `dlq.output.topic`."""
        headers = self._headers(input_topic, -1, -1, "unproducible", message)
        headers.append(("dlq.output.topic", output.topic.encode()))
        copy = Output(self.topic(input_topic), output.key, output.value, headers, "unproducible")
        return self.truncated(copy, self.max_bytes) if size_of(copy) > self.max_bytes else copy

    def truncated(self, output: Output, max_bytes: int) -> Output:
        """`output` cut to `max_bytes`: the original headers dropped first, then the value cut,
        with `dlq.truncated`, `dlq.original.size` and `dlq.original.sha256` saying so."""
        value = output.value or b""
        kept = [(n, v) for n, v in output.headers or () if not n.startswith(ORIGINAL_HEADER)]
        dropped = len(output.headers or ()) - len(kept)
        kept += [("dlq.truncated", b"true"),
                 ("dlq.original.size", str(len(value)).encode()),
                 ("dlq.original.sha256", hashlib.sha256(value).hexdigest().encode()),
                 ("dlq.original.headers.dropped", str(dropped).encode())]
        key = output.key if len(output.key or b"") <= max_bytes // 4 else None
        room = max(0, max_bytes - _FRAMING_BYTES - size_of(output._replace(
            key=key, value=None, headers=kept)))
        cut = value[:room] if output.value is not None else None
        return output._replace(key=key, value=cut, headers=kept)

    def _headers(self, topic: str, partition: int, offset: int, reason: str,
                 message: str) -> Headers:
        return [
            ("dlq.original.topic", topic.encode()),
            ("dlq.original.partition", str(partition).encode()),
            ("dlq.original.offset", str(offset).encode()),
            ("dlq.error.type", reason.encode()),
            ("dlq.error.message", message[:_MAX_MESSAGE_CHARS].encode("utf-8", "replace")),
            ("dlq.worker", self.worker.encode()),
            ("dlq.timestamp", utc_now().encode()),
        ]
