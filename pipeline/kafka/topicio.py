"""Small Kafka helpers for the demo, the tests and benchmarks (I/O shell).

They rely on the high watermark of fetch responses and on committed offsets, not on
ListOffsets: the embedded Tansu broker answers ListOffsets(latest) with the base offset of the
last record batch plus one, which is short of the real end when batches hold several records.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

Record = ConsumerRecord[bytes, bytes]


async def produce(
    bootstrap_servers: str, records: Iterable[tuple[str, bytes | None, bytes]]
) -> int:
    """Produce `(topic, key, value)` records with acks=all; returns how many were acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5,
                                max_request_size=1_048_576)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for topic, key, value in records]
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        await producer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    await consumer._client.force_metadata_update()
    return [TopicPartition(topic, p) for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())]


async def read_all(bootstrap_servers: str, topics: Sequence[str],
                   timeout_s: float = 30.0) -> list[Record]:
    """Every record currently in `topics`, from the beginning up to each high watermark."""
    return await read_range({"bootstrap_servers": bootstrap_servers}, topics,
                            timeout_s=timeout_s)


async def committed_offsets(bootstrap_servers: str, group_id: str,
                            topics: Sequence[str]) -> dict[TopicPartition, int]:
    """`group_id`'s committed offset of every partition of `topics` (0 where none)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topics)
        committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
        return {tp: max(0, meta.offset) if meta is not None else 0
                for tp, meta in committed.items()}
    finally:
        await consumer.stop()
        await admin.close()


async def committed_total(bootstrap_servers: str, group_id: str, topics: Sequence[str]) -> int:
    """Records of `topics` that `group_id` has committed: the sum of its committed offsets.

    Offsets are dense from 0 on these topics (no transactions, no compaction), so the sum equals
    the number of records processed and committed.
    """
    return sum((await committed_offsets(bootstrap_servers, group_id, topics)).values())


async def wait_committed(bootstrap_servers: str, group_id: str, topics: Sequence[str],
                         expected: int, timeout_s: float) -> int:
    """Poll until `group_id` has committed `expected` records of `topics`; returns the count."""
    deadline = time.monotonic() + timeout_s
    done = await committed_total(bootstrap_servers, group_id, topics)
    while done < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        done = await committed_total(bootstrap_servers, group_id, topics)
    return done


async def read_range(connection: Mapping[str, Any], topics: Sequence[str], start: int = 0,
                     end: int | None = None, partitions: Sequence[int] | None = None,
                     timeout_s: float = 60.0) -> list[Record]:
    """Every record `iter_range` yields, in one list."""
    return [record async for chunk in iter_range(connection, topics, start, end, partitions,
                                                  timeout_s)
            for record in chunk]


async def iter_range(connection: Mapping[str, Any], topics: Sequence[str], start: int = 0,
                     end: int | None = None, partitions: Sequence[int] | None = None,
                     timeout_s: float = 60.0, chunk_records: int = 2000
                     ) -> AsyncGenerator[list[Record], None]:
    """Records of `topics` with `start <= offset < end` (end None: up to each high watermark),
    from the given partitions or all of them, as they are fetched: at most `chunk_records` at a
    time, so a long range is never held whole. `connection` is `kafka_client_options(...)`.

    The end is the high watermark of fetch responses, not ListOffsets (see the module note).

    Raises:
        ValueError: a topic or a partition does not exist (before any record is yielded).
        TimeoutError: no fetch returned anything for `timeout_s` while records remained.
    """
    consumer = AIOKafkaConsumer(**connection, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        found = await _partitions(consumer, topics)
        missing = sorted(set(topics) - {tp.topic for tp in found})
        if missing:
            raise ValueError(f"no such topic: {', '.join(missing)}")
        tps = [tp for tp in found if partitions is None or tp.partition in partitions]
        absent = sorted(set(partitions or ()) - {tp.partition for tp in tps})
        if absent:
            have = sorted({tp.partition for tp in found})
            raise ValueError(f"{', '.join(topics)} has no partition {absent} "
                             f"(partitions: {have})")
        consumer.assign(tps)
        if start:
            for tp in tps:
                consumer.seek(tp, start)
        else:
            await consumer.seek_to_beginning(*tps)
        remaining = set(tps)
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {sorted(map(str, remaining))} in time")
            batch = await consumer.getmany(*remaining, timeout_ms=100, max_records=chunk_records)
            if batch:
                deadline = time.monotonic() + timeout_s  # progress: the limit is on stalls
            chunk = [r for records in batch.values() for r in records
                     if end is None or r.offset < end]
            for tp in list(remaining):
                position = await consumer.position(tp)
                highwater = consumer.highwater(tp)
                if (end is not None and position >= end) or (
                        highwater is not None and position >= highwater):
                    remaining.discard(tp)
            if chunk:
                yield chunk
    finally:
        await consumer.stop()
