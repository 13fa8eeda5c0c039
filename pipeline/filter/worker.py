"""The filter worker: the filter core on the processing loop (I/O shell).

It reads `mod.posts` and `mod.reports`, judges each batch with the filter core, and routes what
the core yields to the topics of the contract, keyed by `site_id:user_id`:

    Action → mod.actions · Violation → mod.violations · ReviewItem → mod.review.<queue>
    a record that cannot be used → <input topic>.dlq (with the reason)

Delivery, retries, rebalances, DLQ mechanics and lag are the loop's (`pipeline.kafka.loop`);
the verdict counters move only once a batch is committed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from aiokafka import TopicPartition

from pipeline.config import Config
from pipeline.contract.ids import user_key
from pipeline.contract.messages import (
    Action,
    Post,
    Violation,
    decode_post,
    decode_report,
    encoder,
)
from pipeline.errors import PoisonRecord
from pipeline.filter.judge import FilterCore
from pipeline.filter.outcomes import Message
from pipeline.kafka.deadletters import DeadLetters, Output, utc_now
from pipeline.kafka.loop import Batch, BatchResult, ProcessingLoop, Record
from pipeline.telemetry.metrics import FilterMetrics, Metrics


@dataclass
class Tally:
    """What a batch judged; counted into the metrics once the batch is committed."""

    verdicts: Counter[str] = field(default_factory=Counter)
    hits: Counter[tuple[str, str]] = field(default_factory=Counter)
    reports: Counter[str] = field(default_factory=Counter)

    def count_into(self, metrics: FilterMetrics) -> None:
        """Add this batch's counts to the metrics."""
        for outcome, n in self.verdicts.items():
            metrics.verdicts.labels(outcome).inc(n)
        for (mode, category), n in self.hits.items():
            metrics.hits.labels(mode, category).inc(n)
        for category, n in self.reports.items():
            metrics.reports.labels(category).inc(n)


class FilterWorker:
    """One member of the filter consumer group: a `Processor` for the processing loop."""

    name = "filter"

    def __init__(self, config: Config, core: FilterCore, metrics: Metrics) -> None:
        self.config = config
        self.core = core
        self.metrics = metrics
        t = config.topics
        self.topics = (t.posts, t.reports)
        self._actions, self._violations = t.actions, t.violations
        self._review = t.review
        self.loop = ProcessingLoop(config, self, metrics.loop)

    def set_core(self, core: FilterCore) -> None:
        """Swap in a new filter core (a reloaded wordlist); batches are judged whole by one."""
        self.core = core

    async def run(self, stop: asyncio.Event) -> None:
        """Run on the processing loop until `stop` is set (see `ProcessingLoop.run`)."""
        await self.loop.run(stop)

    def ready(self) -> tuple[bool, str]:
        """Readiness for `/ready`."""
        return self.loop.ready()

    def assignment(self) -> set[TopicPartition]:
        """The partitions this worker owns now."""
        return self.loop.assignment()

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        """The filter keeps no per-partition state."""

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        """The filter keeps no per-partition state."""

    async def process(self, batch: Batch, dlq: DeadLetters) -> BatchResult:
        """The loop's call: `judge`."""
        return self.judge(batch, dlq)

    def judge(self, batch: Batch, dlq: DeadLetters) -> BatchResult:
        """Judge a batch: posts are decoded first, then judged together
        (`FilterCore.hits_batch`), so the text work runs in a few C-level passes. Everything
        the worker does per batch but Kafka I/O (the benchmarks time this)."""
        core = self.core
        w = self.config.worker
        now = utc_now()
        outputs: list[Output] = []
        tally = Tally()
        posts: list[tuple[Record, Post]] = []
        posts_topic = self.topics[0]
        for tp, records in batch.items():
            is_posts = tp.topic == posts_topic
            for record in records:
                try:
                    if is_posts:
                        posts.append((record, decode_post(
                            record.value, max_bytes=w.max_record_bytes,
                            max_text_chars=w.max_text_chars)))
                        continue
                    report = decode_report(record.value, max_bytes=w.max_record_bytes,
                                           max_text_chars=w.max_text_chars)
                    item = core.process_report(report, record.key)
                except PoisonRecord as exc:
                    outputs.append(dlq.record(record, exc.reason, exc.message))
                    continue
                outputs.append(self._output(item, record))
                tally.verdicts["report"] += 1
                tally.reports[report.category] += 1
                tally.hits.update((h.mode, h.category) for h in item.hits)
        found = core.hits_batch([post.text for _, post in posts],
                                [post.site_id for _, post in posts])
        clean = 0
        for (record, post), hits in zip(posts, found, strict=True):
            if not hits:  # the common case: nothing to build
                clean += 1
                continue
            outcome = core.process_post(post, now, hits)
            outputs.extend(self._output(message, record) for message in outcome.messages)
            tally.verdicts[outcome.verdict] += 1
            tally.hits.update((h.mode, h.category) for h in hits)
        if clean:
            tally.verdicts["clean"] += clean
        return BatchResult(outputs, on_commit=lambda: tally.count_into(self.metrics.filter))

    def _output(self, message: Message, record: Record) -> Output:
        """Route and encode one message of the filter core."""
        if isinstance(message, Action):
            topic = self._actions
        elif isinstance(message, Violation):
            topic = self._violations
        else:
            topic = self._review(message.queue)
        return Output(topic, user_key(message.site_id, message.user_id),
                      encoder.encode(message), origin=record)

