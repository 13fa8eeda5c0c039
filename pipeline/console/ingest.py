"""The console's ingest (I/O shell): review items, actions and violations from Kafka into the
store, idempotent by id, offsets committed only after the store committed.

`decode_batch` and `Ingest.process` are the service's own part; `Ingest.run` is a small
consumer-group loop (fetch → store → DLQ copies acknowledged → commit) until the shared
processing loop (`pipeline.kafka.loop`) carries this processor like every other service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError

from pipeline.config import Config
from pipeline.console import cases as rules
from pipeline.console.queue import IngestCounts
from pipeline.console.store import Store
from pipeline.contract.messages import Action, ReviewItem, Violation
from pipeline.errors import PoisonRecord
from pipeline.filter.judge import Output
from pipeline.filter.worker import dlq_output
from pipeline.kafka.clients import make_consumer, make_producer

log = logging.getLogger(__name__)

Record = ConsumerRecord[bytes, bytes]


@dataclass
class Decoded:
    """One batch, decoded: what goes to the store and what goes to the DLQ."""

    items: list[ReviewItem] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    rejected: list[tuple[Record, str, str]] = field(default_factory=list)


def ingest_topics(config: Config) -> list[str]:
    """The topics the console reads: every review queue, the actions and the violations."""
    t, p = config.topics, config.policy
    return [t.review(q) for q in (p.urgent_queue, p.standard_queue, p.reports_queue)] + [
        t.actions, t.violations]


def decode_batch(config: Config, records: Iterable[Record]) -> Decoded:
    """Sort records by topic and decode them; an unusable record is `rejected` with its
    reason, never dropped."""
    out = Decoded()
    t = config.topics
    for record in records:
        try:
            if record.topic == t.actions:
                out.actions.append(rules.decode_action(record.value))
            elif record.topic == t.violations:
                out.violations.append(rules.decode_violation(record.value))
            else:
                out.items.append(rules.decode_item(record.value))
        except PoisonRecord as exc:
            out.rejected.append((record, exc.reason, exc.message))
    return out


class Ingest:
    """The console's consumer-group member.

    Args:
        config: Kafka settings, topics, `console.group_id`.
        store: where items and history are written.
    """

    name = "console"

    def __init__(self, config: Config, store: Store) -> None:
        self.config = msgspec.structs.replace(config, kafka=msgspec.structs.replace(
            config.kafka, group_id=config.console.group_id))
        self.store = store
        self.topics = ingest_topics(config)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:console"
        self.totals = IngestCounts()
        self.committed = 0
        self.connected = False

    async def process(self, records: list[Record]) -> list[Output]:
        """Write one batch to the store (one transaction) and return its DLQ copies."""
        decoded = decode_batch(self.config, records)
        if decoded.items or decoded.actions or decoded.violations:
            counts = await asyncio.to_thread(self.store.ingest, decoded.items,
                                             decoded.actions, decoded.violations)
            self.totals.items += counts.items
            self.totals.duplicates += counts.duplicates
            self.totals.new_cases += counts.new_cases
            self.totals.history += counts.history
        for record, reason, _ in decoded.rejected:
            log.warning("ingest: %s at %s[%d]@%d goes to the DLQ", reason, record.topic,
                        record.partition, record.offset)
        return [dlq_output(self.config.topics.dlq(record.topic), record, reason, message,
                           self.worker) for record, reason, message in decoded.rejected]

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop`, retrying with backoff while the broker is unreachable."""
        backoff = self.config.kafka.retry_backoff_ms / 1000
        while not stop.is_set():
            consumer: AIOKafkaConsumer | None = None
            producer: AIOKafkaProducer | None = None
            try:
                consumer = make_consumer(self.config)
                producer = make_producer(self.config)
                await consumer.start()
                await producer.start()
                consumer.subscribe(self.topics)
                self.connected = True
                backoff = self.config.kafka.retry_backoff_ms / 1000
                await self._loop(consumer, producer, stop)
            except (KafkaError, OSError) as exc:
                self.connected = False
                log.warning("ingest: broker trouble (%s); retrying in %.1fs",
                            type(exc).__name__, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, self.config.worker.max_retry_backoff_ms / 1000)
            finally:
                if consumer is not None:
                    with contextlib.suppress(Exception):
                        await consumer.stop()
                if producer is not None:
                    with contextlib.suppress(Exception):
                        await producer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer,
                    stop: asyncio.Event) -> None:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500,
                                           max_records=self.config.worker.max_batch_records)
            records = [r for part in batch.values() for r in part]
            if not records:
                continue
            outputs = await self.process(records)
            if outputs:
                futures = [await producer.send(o.topic, o.value, key=o.key, headers=o.headers)
                           for o in outputs]
                await asyncio.gather(*futures)
            # Offsets last: the store committed and every DLQ copy was acknowledged.
            offsets = {tp: part[-1].offset + 1 for tp, part in batch.items() if part}
            await consumer.commit(offsets)
            self.committed += len(records)
