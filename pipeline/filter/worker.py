"""The filter worker: Kafka in, filter core, Kafka out (I/O shell).

Delivery is at-least-once. For each fetched batch the worker judges every record, sends every
output (and every DLQ copy), waits until the broker has acknowledged all of them, and only then
commits the batch's offsets. A crash anywhere before the commit replays the batch; outputs carry
stable ids, so the replay makes duplicates that downstream can drop, never a loss.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from pipeline.config import Config
from pipeline.contract.messages import Hit, Post, decode_post, decode_report
from pipeline.errors import PoisonRecord
from pipeline.filter.judge import FilterCore, Output
from pipeline.kafka import compat as kafkacompat
from pipeline.kafka.clients import make_consumer, make_producer
from pipeline.kafka.health import BrokerHealth
from pipeline.telemetry.metrics import Metrics

log = logging.getLogger(__name__)

Record = ConsumerRecord[bytes, bytes]


def utc_now() -> str:
    """The current time as an RFC 3339 string in UTC, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dlq_output(dlq_topic: str, record: Record, reason: str, message: str, worker: str) -> Output:
    """The DLQ copy of a record: original key and value bytes, the reason in `dlq.*` headers."""
    headers = [
        ("dlq.original.topic", record.topic.encode()),
        ("dlq.original.partition", str(record.partition).encode()),
        ("dlq.original.offset", str(record.offset).encode()),
        ("dlq.error.type", reason.encode()),
        ("dlq.error.message", message[:1000].encode("utf-8", "replace")),
        ("dlq.worker", worker.encode()),
        ("dlq.timestamp", utc_now().encode()),
    ]
    value = record.value if record.value is not None else b""
    return Output(dlq_topic, record.key or b"", value, headers)


class _WaitForBatch(ConsumerRebalanceListener):
    """Lets a batch in hand finish (outputs acknowledged, offsets committed) before a revoke."""

    def __init__(self, lock: asyncio.Lock, on_revoke: Callable[[set[TopicPartition]], None]):
        self._lock = lock
        self._on_revoke = on_revoke

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            self._on_revoke(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in assigned))


class FilterWorker:
    """One member of the filter consumer group."""

    def __init__(self, config: Config, core: FilterCore, metrics: Metrics) -> None:
        self.config = config
        self.core = core
        self.metrics = metrics
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._last_lag_refresh = 0.0
        self._last_probe = 0.0
        # Outputs and DLQ counts of the batch being judged.
        self._outputs: list[Output] = []
        self._dlq_counts: collections.Counter[str] = collections.Counter()
        self._started = False
        self._stopping = False
        self._consumer_stuck = False
        self.health = BrokerHealth(metrics, config.kafka.retry_backoff_ms / 1000,
                                   config.worker.max_retry_backoff_ms / 1000)
        #: The next offset to process, per partition, as of the last committed batch.
        self._positions: dict[TopicPartition, int] = {}
        topics = config.topics
        self._input_topics = (topics.posts, topics.reports)
        self._dlq = {t: topics.dlq(t) for t in self._input_topics}

    def set_core(self, core: FilterCore) -> None:
        """Swap in a new filter core (a reloaded wordlist) between batches."""
        self.core = core

    async def start(self) -> None:
        """Connect the producer and join the consumer group."""
        kafkacompat.install()
        self._producer = make_producer(self.config)
        await self._producer.start()
        try:
            self._consumer = await self._subscribed_consumer()
        except BaseException:
            await self._producer.stop()
            raise

    async def _subscribed_consumer(self) -> AIOKafkaConsumer:
        consumer = make_consumer(self.config)
        consumer.subscribe(list(self._input_topics),
                           listener=_WaitForBatch(self._lock, self._forget_partitions))
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        return consumer

    async def _replace_consumer(self) -> None:
        """Leave the group with a stuck consumer (as far as it can) and join with a new one.

        The new member starts from the committed offsets, so whatever the old one processed
        without committing is replayed: duplicates (same ids), never a loss.
        """
        old = self._consumer
        assert old is not None
        self._consumer = None
        self._positions.clear()
        try:
            await asyncio.wait_for(old.stop(), timeout=self.config.kafka.session_timeout_ms / 1000)
        except (TimeoutError, KafkaError) as exc:
            log.warning("the old consumer did not stop cleanly (%s); abandoning it",
                        exc or type(exc).__name__)
        while True:
            try:
                self._consumer = await self._subscribed_consumer()
                break
            except KafkaError as exc:
                await asyncio.sleep(self.health.failed("rejoin", exc))
        log.info("rejoined the group with a new consumer")

    def ready(self) -> tuple[bool, str]:
        """Readiness for `/ready`: started, not stopping, and the broker answers."""
        if self._stopping:
            return False, "stopping"
        if not self._started:
            return False, "starting"
        return self.health.connected, self.health.describe()

    def assignment(self) -> set[TopicPartition]:
        """The partitions this worker owns right now (empty before it joined the group)."""
        return set(self._consumer.assignment()) if self._consumer is not None else set()

    async def stop(self) -> None:
        """Leave the group and flush the producer."""
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        try:
            if consumer is not None:
                await consumer.stop()
        finally:
            if producer is not None:
                await producer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch, process and commit batches until `stop` is set, then drain and leave.

        The batch in hand when `stop` is set is finished (outputs acknowledged, offsets
        committed) before the worker leaves the group.
        """
        await self.start()
        self._started = True
        try:
            while not stop.is_set():
                await self.run_once()
        finally:
            self._stopping = True
            await asyncio.wait_for(
                self.stop(), timeout=self.config.worker.shutdown_timeout_ms / 1000
            )

    async def run_once(self) -> int:
        """Fetch one batch and process it; returns the number of records handled."""
        consumer = self._consumer
        assert consumer is not None, "start() first"
        try:
            batch = await consumer.getmany(
                timeout_ms=self.config.kafka.fetch_max_wait_ms,
                max_records=self.config.worker.max_batch_records,
            )
        except KafkaError as exc:
            self.metrics.errors.labels("fetch").inc()
            await asyncio.sleep(self.health.failed("fetch", exc))
            return 0
        if not batch:
            await self._probe_when_idle()
            self._refresh_lag_when_idle()
            return 0
        async with self._lock:
            handled = await self._process(batch)
        if self._consumer_stuck:
            self._consumer_stuck = False
            await self._replace_consumer()
        return handled

    async def _process(self, batch: dict[TopicPartition, list[Record]]) -> int:
        consumer, producer = self._consumer, self._producer
        assert consumer is not None
        assert producer is not None
        m = self.metrics
        started = time.perf_counter()
        total = sum(len(records) for records in batch.values())
        m.in_flight.set(total)
        m.batch_records.observe(total)
        outputs, counts = self._judge(batch)

        try:
            futures = [
                await producer.send(o.topic, o.value, key=o.key, headers=o.headers)
                for o in outputs
            ]
            await asyncio.gather(*futures)
        except KafkaError as exc:
            # Nothing of this batch is committed: rewind so it is fetched and judged again.
            m.errors.labels("produce").inc()
            log.debug("producing outputs failed, replaying the batch: %s", exc)
            for tp, records in batch.items():
                consumer.seek(tp, records[0].offset)
            m.in_flight.set(0)
            await asyncio.sleep(self.health.failed("produce", exc))
            return 0
        self.health.ok()

        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
        try:
            await asyncio.wait_for(consumer.commit(offsets),
                                   timeout=self.config.worker.commit_timeout_ms / 1000)
            m.commits.labels("ok").inc()
        except TimeoutError:
            m.commits.labels("stuck").inc()
            log.warning("commit did not complete in %.0fs; replacing the consumer",
                        self.config.worker.commit_timeout_ms / 1000)
            self._consumer_stuck = True  # replaced by run_once, outside the rebalance lock
            m.in_flight.set(0)
            return 0
        except (CommitFailedError, IllegalStateError) as exc:
            # The partitions moved to another member during a rebalance; it replays from the
            # last committed offset, so outputs may repeat (same ids) but none is lost.
            m.commits.labels("rebalanced").inc()
            log.info("commit skipped after rebalance: %s", exc)
        except KafkaError as exc:
            m.commits.labels("failed").inc()
            log.warning("commit failed; the batch will be replayed by the next owner: %s", exc)
            await asyncio.sleep(self.health.failed("commit", exc))

        for topic, n in counts.items():
            m.records_consumed.labels(topic).inc(n)
        self._count_outputs(outputs)
        self._positions.update(offsets)
        self._set_lag(batch)
        m.in_flight.set(0)
        m.last_processed.set(time.time())
        m.batch_seconds.observe(time.perf_counter() - started)
        return total

    def _judge(
        self, batch: dict[TopicPartition, list[Record]]
    ) -> tuple[list[Output], collections.Counter[str]]:
        """Run the filter core over a batch; bad records become DLQ outputs.

        Posts are decoded first, then judged together (`FilterCore.hits_batch`), so the text
        work of the whole batch runs in a few C-level passes.
        """
        core = self.core
        w = self.config.worker
        m = self.metrics
        posts_topic = self.config.topics.posts
        now = utc_now()
        started = time.perf_counter()
        self._outputs = outputs = []
        self._dlq_counts = collections.Counter()
        consumed: collections.Counter[str] = collections.Counter()
        verdicts: collections.Counter[str] = collections.Counter()
        hits: collections.Counter[tuple[str, str]] = collections.Counter()
        report_categories: collections.Counter[str] = collections.Counter()
        posts: list[tuple[Record, Post]] = []
        for tp, records in batch.items():
            consumed[tp.topic] += len(records)
            is_posts = tp.topic == posts_topic
            for record in records:
                try:
                    if is_posts:
                        posts.append((record, decode_post(
                            record.value, max_bytes=w.max_record_bytes,
                            max_text_chars=w.max_text_chars)))
                    else:
                        report = decode_report(record.value, max_bytes=w.max_record_bytes,
                                               max_text_chars=w.max_text_chars)
                        outputs.append(core.process_report(report, record.key, now))
                        verdicts["report"] += 1
                        report_categories[report.category] += 1
                except PoisonRecord as exc:
                    self._to_dlq(record, exc.reason, exc.message)
                except Exception as exc:  # a bug must not block the partition: DLQ it, loudly
                    self._internal_error(record, exc)
        clean = 0
        for (record, post), post_hits in zip(posts, self._hits_of(posts), strict=True):
            if post_hits is None:
                continue  # already sent to the DLQ
            if not post_hits:  # the common case: nothing to build
                clean += 1
                continue
            try:
                result = core.process_post(post, now, post_hits)
            except Exception as exc:
                self._internal_error(record, exc)
                continue
            outputs.extend(result.outputs)
            verdicts[result.verdict] += 1
            for h in result.hits:
                hits[(h.mode, h.category)] += 1
        if clean:
            verdicts["clean"] += clean
        total = sum(consumed.values())
        m.record_seconds.observe((time.perf_counter() - started) / max(1, total))
        for outcome, n in verdicts.items():
            m.verdicts.labels(outcome).inc(n)
        for (mode, category), n in hits.items():
            m.hits.labels(mode, category).inc(n)
        for category, n in report_categories.items():
            m.reports.labels(category).inc(n)
        for reason, n in self._dlq_counts.items():
            m.dlq.labels(reason).inc(n)
        return outputs, consumed

    def _hits_of(self, posts: list[tuple[Record, Post]]) -> list[list[Hit] | None]:
        """Hits of every post in one batch call; should that fail (a bug), each post alone, so
        only the post that triggers the bug goes to the DLQ."""
        core = self.core
        try:
            found: list[list[Hit] | None] = list(core.hits_batch(
                [post.text for _, post in posts], [post.site_id for _, post in posts]))
            return found
        except Exception:
            log.exception("batch judging failed; judging the batch post by post")
        one_by_one: list[list[Hit] | None] = []
        for record, post in posts:
            try:
                one_by_one.append(core.hits(post.text, post.site_id))
            except Exception as exc:
                self._internal_error(record, exc)
                one_by_one.append(None)
        return one_by_one

    def _to_dlq(self, record: Record, reason: str, message: str) -> None:
        self._dlq_counts[reason] += 1
        self._outputs.append(dlq_output(self._dlq[record.topic], record, reason, message,
                                        self.worker_id))

    def _internal_error(self, record: Record, exc: Exception) -> None:
        log.error("internal error on %s[%d]@%d", record.topic, record.partition, record.offset,
                  exc_info=exc)
        self._to_dlq(record, "internal_error", f"{type(exc).__name__}: {exc}")

    def _count_outputs(self, outputs: list[Output]) -> None:
        by_topic = collections.Counter(o.topic for o in outputs)
        for topic, n in by_topic.items():
            self.metrics.outputs.labels(topic).inc(n)

    def _forget_partitions(self, revoked: set[TopicPartition]) -> None:
        for tp in revoked:
            self._positions.pop(tp, None)
            with contextlib.suppress(KeyError):
                self.metrics.lag.remove(tp.topic, str(tp.partition))

    def _set_lag(self, partitions: Iterable[TopicPartition]) -> None:
        consumer = self._consumer
        assert consumer is not None
        for tp in partitions:
            highwater = consumer.highwater(tp)
            position = self._positions.get(tp)
            if highwater is not None and position is not None:
                self.metrics.lag.labels(tp.topic, str(tp.partition)).set(
                    max(0, highwater - position)
                )

    async def _probe_when_idle(self) -> None:
        """With nothing to fetch, ask the broker for metadata now and then: an empty fetch
        looks the same whether the topics are quiet or the broker is gone."""
        now = time.monotonic()
        if now - self._last_probe < self.config.worker.health_check_interval_ms / 1000:
            return
        self._last_probe = now
        consumer = self._consumer
        assert consumer is not None
        timeout_s = max(1.0, self.config.worker.health_check_interval_ms / 1000)
        try:
            await asyncio.wait_for(consumer.topics(), timeout=timeout_s)
        except (KafkaError, TimeoutError) as exc:
            await asyncio.sleep(self.health.failed("metadata", exc))
        else:
            self.health.ok()

    def _refresh_lag_when_idle(self) -> None:
        """Keep the lag gauges current while there is nothing to fetch."""
        now = time.monotonic()
        if now - self._last_lag_refresh < self.config.worker.lag_refresh_interval_ms / 1000:
            return
        self._last_lag_refresh = now
        consumer = self._consumer
        assert consumer is not None
        self._set_lag(consumer.assignment())
