"""aiokafka on uvloop: a send on a closed connection must be a retriable Kafka error."""

from __future__ import annotations

import asyncio

import pytest
import uvloop
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.metadata import MetadataRequest

from pipeline.kafka import compat as kafkacompat
from pipeline.kafka.embedded import EmbeddedBroker


async def _send_after_close(broker: EmbeddedBroker) -> BaseException:
    conn = await create_conn(broker.host, broker.port)
    try:
        assert (await conn.send(MetadataRequest([]))).brokers, "the broker answers first"
        assert conn._writer is not None
        conn._writer.transport.close()  # the peer's side of a broker restart, as uvloop sees it
        await asyncio.sleep(0)
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the type is what is checked
            await conn.send(MetadataRequest([]))
        return raised.value
    finally:
        conn.close()


def test_send_on_closed_uvloop_transport_is_a_connection_error(broker: EmbeddedBroker) -> None:
    """Without the fix uvloop's RuntimeError escapes aiokafka and kills its metadata task (the
    worker then hangs after a broker restart); with it the send fails as on the default loop."""
    kafkacompat.install()
    error = uvloop.run(_send_after_close(broker))
    assert isinstance(error, KafkaConnectionError), repr(error)
    assert "handler is closed" in str(error)
