"""Decisions out: the outbox in the store and the relay that publishes it to `mod.decisions`
(I/O shell).

A decision is written with its outbox row in one transaction; the relay claims unsent rows
for `relay_lease_s`, produces them, waits for the broker's acknowledgement and only then marks
them sent. While Kafka is unreachable rows stay unsent and the relay retries with backoff, so
an outage delays decisions and loses none. A crash between produce and mark re-sends rows with
the same `decision_id` (at-least-once; the enforcer drops duplicates by id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pipeline.config import Config
from pipeline.console.db import StoreBase
from pipeline.console.metrics import ConsoleMetrics
from pipeline.console.schema import outbox
from pipeline.kafka.clients import make_producer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxRow:
    """One decision waiting to be published."""

    outbox_id: int
    topic: str
    key: bytes | None
    value: bytes


class OutboxMixin(StoreBase):
    """The store's side of the outbox."""

    def claim_outbox(self, limit: int, lease_s: float) -> list[OutboxRow]:
        """Unsent rows, oldest first, now owned by the caller for `lease_s` (so two console
        instances do not publish the same rows at once)."""
        now = self.now()
        with self.write() as conn:
            rows = conn.execute(
                sa.select(outbox.c.outbox_id, outbox.c.topic, outbox.c.key, outbox.c.value)
                .where(outbox.c.sent_ts.is_(None),
                       sa.or_(outbox.c.relay_until.is_(None), outbox.c.relay_until < now))
                .order_by(outbox.c.outbox_id).limit(limit)
                .with_for_update(skip_locked=True)).all()
            if rows:
                conn.execute(outbox.update().where(
                    outbox.c.outbox_id.in_([r.outbox_id for r in rows]))
                    .values(relay_until=now + lease_s))
        return [OutboxRow(r.outbox_id, r.topic, r.key, r.value) for r in rows]

    def mark_sent(self, ids: list[int]) -> None:
        """Rows the broker acknowledged."""
        with self.write() as conn:
            conn.execute(outbox.update().where(outbox.c.outbox_id.in_(ids))
                         .values(sent_ts=self.now(), relay_until=None))

    def unclaim_outbox(self, ids: list[int]) -> None:
        """Rows whose publication failed: available again at once."""
        with self.write() as conn:
            conn.execute(outbox.update().where(outbox.c.outbox_id.in_(ids),
                                               outbox.c.sent_ts.is_(None))
                         .values(relay_until=None))

    def outbox_backlog(self) -> tuple[int, float]:
        """Unsent rows and the age of the oldest, seconds."""
        with self.read() as conn:
            row = conn.execute(sa.select(sa.func.count(), sa.func.min(outbox.c.created_ts))
                               .where(outbox.c.sent_ts.is_(None))).one()
        count, oldest = int(row[0]), row[1]
        return count, (self.now() - oldest) if oldest is not None else 0.0


class Relay:
    """Publishes the outbox until stopped.

    Args:
        config: Kafka client settings and `console.relay_*`.
        store: the store whose outbox is published.
        metrics: backlog gauges.
    """

    def __init__(self, config: Config, store: OutboxMixin, metrics: ConsoleMetrics) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics
        self.producer: AIOKafkaProducer | None = None
        self.published = 0
        self.failures = 0
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop`; wakes early when `wake` is set (a decision was just made)."""
        c = self.config.console
        backoff = self.config.kafka.retry_backoff_ms / 1000
        warned = False
        try:
            while not stop.is_set():
                try:
                    sent = await self.relay_once()
                    backoff = self.config.kafka.retry_backoff_ms / 1000
                    if warned:
                        log.info("outbox relay: broker reachable again")
                        warned = False
                    if sent == c.relay_batch:
                        continue
                    pause = c.relay_interval_ms / 1000
                except (KafkaError, OSError, TimeoutError) as exc:
                    self.failures += 1
                    if not warned:
                        log.warning("outbox relay: cannot publish decisions (%s); retrying, "
                                    "nothing is lost", type(exc).__name__)
                        warned = True
                    await self._drop_producer()
                    pause = backoff
                    backoff = min(backoff * 2, self.config.worker.max_retry_backoff_ms / 1000)
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, self.wake), timeout=pause)
        finally:
            await self._drop_producer()

    async def relay_once(self) -> int:
        """Publish one batch of the outbox. Returns how many rows were sent.

        Raises:
            KafkaError, OSError, TimeoutError: the broker could not be reached; the rows are
                released for the next try.
        """
        c = self.config.console
        rows = await asyncio.to_thread(self.store.claim_outbox, c.relay_batch, c.relay_lease_s)
        if rows:
            try:
                producer = await self._producer()
                timeout = self.config.kafka.request_timeout_ms / 1000
                futures = [await asyncio.wait_for(
                    producer.send(r.topic, r.value, key=r.key), timeout) for r in rows]
                await asyncio.wait_for(asyncio.gather(*futures), timeout)
            except BaseException:
                await asyncio.to_thread(self.store.unclaim_outbox,
                                        [r.outbox_id for r in rows])
                raise
            await asyncio.to_thread(self.store.mark_sent, [r.outbox_id for r in rows])
            self.published += len(rows)
        backlog, oldest = await asyncio.to_thread(self.store.outbox_backlog)
        self.metrics.outbox_backlog.set(backlog)
        self.metrics.outbox_oldest_age.set(oldest)
        return len(rows)

    async def _producer(self) -> AIOKafkaProducer:
        if self.producer is None:
            producer = make_producer(self.config)
            try:
                await asyncio.wait_for(producer.start(),
                                       self.config.kafka.request_timeout_ms / 1000)
            except BaseException:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            self.producer = producer
        return self.producer

    async def _drop_producer(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 5)


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
