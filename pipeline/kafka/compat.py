"""A fix for aiokafka under uvloop (I/O shell).

aiokafka's connections turn an `OSError` from writing to a dead socket into
`KafkaConnectionError`, which every caller retries. uvloop raises `RuntimeError("unable to
perform operation on <TCPTransport closed=True ...>; the handler is closed")` instead
(aio-libs/aiokafka#1038, open). When that happens inside aiokafka's metadata task, the task
dies, nothing ever answers `force_metadata_update` again, and the group coordinator waits for
it forever: heartbeats and commits hang while fetches go on. It happened here in about one
broker restart in ten.

`install()` makes a send on a closed uvloop transport close the connection and raise
`KafkaConnectionError`, as it does on the default event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiokafka.conn import AIOKafkaConnection, CloseReason
from aiokafka.errors import KafkaConnectionError

_CLOSED = "the handler is closed"
_original_send: Callable[..., Any] = AIOKafkaConnection.send


def _send(self: AIOKafkaConnection, request: Any, expect_response: bool = True) -> Any:
    try:
        return _original_send(self, request, expect_response)
    except RuntimeError as exc:
        if _CLOSED not in str(exc):
            raise
        self.close(reason=CloseReason.CONNECTION_BROKEN)
        raise KafkaConnectionError(
            f"Connection at {self.host}:{self.port} broken: {exc}") from exc


def install() -> None:
    """Patch `AIOKafkaConnection.send` (idempotent)."""
    AIOKafkaConnection.send = _send  # type: ignore[method-assign]
