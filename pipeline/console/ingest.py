"""The console's ingest (I/O shell): review items, actions and violations from Kafka into the
store, a `Processor` on the shared processing loop (`pipeline.kafka.loop`).

The loop fetches a batch, `process` writes it to the store in one transaction (idempotent by
id, so a replay changes nothing) and returns the DLQ copies of unusable records; the loop
commits the offsets only after that, so nothing is committed that the store does not hold.
While the store cannot be reached, `process` waits and retries instead of failing: a good
record must never go to the DLQ because the database was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from pipeline.config import Config
from pipeline.console import cases as rules
from pipeline.console.queue import IngestCounts
from pipeline.console.store import Store
from pipeline.contract.messages import Action, ReviewItem, Violation
from pipeline.errors import PoisonRecord
from pipeline.kafka.deadletters import DeadLetters
from pipeline.kafka.loop import Batch, BatchResult, ProcessingLoop, Record
from pipeline.telemetry.metrics import LoopMetrics

log = logging.getLogger(__name__)


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
    """The console's processor, and its consumer-group member (`run`).

    Args:
        config: Kafka settings, topics, `console.group_id`.
        store: where items and history are written.
        metrics: the loop's metric families (labelled `service="console"`).
    """

    name = "console"

    def __init__(self, config: Config, store: Store, metrics: LoopMetrics | None = None) -> None:
        self.config = config
        self.store = store
        self.topics: Sequence[str] = ingest_topics(config)
        self.totals = IngestCounts()
        self.committed = 0
        self.loop = ProcessingLoop(config, self, metrics or LoopMetrics(CollectorRegistry()),
                                   group_id=config.console.group_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` (the shared loop: retries while the broker is unreachable)."""
        await self.loop.run(stop)

    def ready(self) -> tuple[bool, str]:
        """For /ready: whether the broker answers."""
        return self.loop.ready()

    async def process(self, batch: Batch, dlq: DeadLetters) -> BatchResult:
        """Write one batch to the store (one transaction) and return its DLQ copies."""
        records = [r for part in batch.values() for r in part]
        decoded = decode_batch(self.config, records)
        counts = IngestCounts()
        if decoded.items or decoded.actions or decoded.violations:
            counts = await self._write(decoded)
        outputs = [dlq.record(record, reason, message)
                   for record, reason, message in decoded.rejected]

        def committed() -> None:
            self.totals.items += counts.items
            self.totals.duplicates += counts.duplicates
            self.totals.new_cases += counts.new_cases
            self.totals.history += counts.history
            self.committed += len(records)

        return BatchResult(outputs, on_commit=committed)

    async def _write(self, decoded: Decoded) -> IngestCounts:
        pause = self.config.kafka.retry_backoff_ms / 1000
        while True:
            try:
                return await asyncio.to_thread(self.store.ingest, decoded.items,
                                               decoded.actions, decoded.violations)
            except sa.exc.OperationalError as exc:  # the database is unreachable or locked
                log.warning("ingest: store unavailable (%s); retrying in %.1fs",
                            str(exc).splitlines()[0][:200], pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.config.worker.max_retry_backoff_ms / 1000)

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        """Nothing to restore: the store is the state."""

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        """Nothing to hand over: every processed batch is in the store."""
