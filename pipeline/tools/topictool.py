"""`mimamori produce` and `mimamori consume`: feed a topic from lines and read one back, for
operators without Kafka tooling (Debian 12's kcat, on librdkafka 2.0.2, cannot talk to the
embedded broker). They use the same client settings as every mimamori process (`kafka.*`,
TLS and SASL included).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from typing import BinaryIO

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from pipeline.config import Config
from pipeline.kafka.clients import kafka_client_options


def split_line(line: bytes, separator: bytes | None) -> tuple[bytes | None, bytes]:
    """`key<sep>value` into key and value (no separator, or none given: no key)."""
    line = line.rstrip(b"\r\n")
    if separator:
        key, sep, value = line.partition(separator)
        if sep:
            return key, value
    return None, line


async def produce_lines(config: Config, topic: str, lines: Iterable[bytes],
                        separator: bytes | None) -> int:
    """Produce one record per non-empty line and wait for every acknowledgement."""
    producer = AIOKafkaProducer(**kafka_client_options(config.kafka), acks="all",
                                max_request_size=config.kafka.max_request_size_bytes)
    await producer.start()
    try:
        futures = []
        for line in lines:
            if not line.strip():
                continue
            key, value = split_line(line, separator)
            futures.append(await producer.send(topic, value, key=key))
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        await producer.stop()


async def consume_topic(config: Config, topic: str, out: BinaryIO, *, from_beginning: bool,
                        follow: bool, limit: int | None, with_headers: bool) -> int:
    """Write a topic's records to `out`, one JSON object per line (key, value as text where
    they are UTF-8, partition, offset, headers when asked). Without `follow`, stops at the
    end of every partition; with it, waits for more until interrupted or `limit` is reached.
    """
    consumer = AIOKafkaConsumer(**kafka_client_options(config.kafka), enable_auto_commit=False,
                                auto_offset_reset="earliest" if from_beginning else "latest")
    await consumer.start()
    # Let the consumer's own tasks start: aiokafka's stop() right after start() raises
    # CancelledError from a task that never ran (NoGroupCoordinator.close).
    await asyncio.sleep(0)
    written = 0
    try:
        partitions = [TopicPartition(topic, p)
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise ValueError(f"no such topic: {topic}")
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        done: set[TopicPartition] = set()
        while limit is None or written < limit:
            batch = await consumer.getmany(timeout_ms=500)
            records = [r for part in batch.values() for r in part]
            if limit is not None:
                records = records[:limit - written]
            for r in records:
                line: dict[str, object] = {"partition": r.partition, "offset": r.offset,
                                           "key": _text(r.key), "value": _text(r.value)}
                if with_headers:
                    line["headers"] = {name: _text(value) for name, value in r.headers}
                out.write(msgspec.json.encode(line) + b"\n")
            written += len(records)
            out.flush()
            if not follow:
                for tp in partitions:
                    highwater = consumer.highwater(tp)
                    if highwater is not None and await consumer.position(tp) >= highwater:
                        done.add(tp)
                if done >= set(partitions):
                    break
        return written
    finally:
        await consumer.stop()


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", "backslashreplace")


def stdin_lines() -> Iterable[bytes]:
    """Lines of standard input, as bytes."""
    return iter(sys.stdin.buffer.readline, b"")
