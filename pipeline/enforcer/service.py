"""The `enforce` service: the enforcer as a processor on the shared loop (I/O shell).

    mod.violations ┐                      ┌─▶ mod.actions  (warn, suspend, expel, restore, lift…)
                   ├─▶ ledger + ladder ───┤
    mod.decisions  ┘   (partition-local)  └─▶ mod.ledger   (changelog: latest ledger per user)

Per batch, every event is applied to its user's ledger (`rules.apply`); the batch's new ledgers
are *staged*, and produced to the changelog together with the actions. The loop commits the
input offsets only after all of them were acknowledged; then (`on_commit`) the staged ledgers
become the partition's state. When the outputs or the commit fail (`on_abort`), the staged
ledgers are dropped and the batch's partitions are restored from the changelog before their
next batch: whatever reached the changelog is then known, so a replayed event is recognised
(`Ledger.applied`) and only its actions are sent again, with the same ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry

from pipeline.config import Config, effective
from pipeline.contract.ids import user_key
from pipeline.contract.messages import encoder
from pipeline.enforcer.events import decode_decision, decode_violation
from pipeline.enforcer.ledger import Ledger, encode_ledger
from pipeline.enforcer.metrics import EnforcerMetrics
from pipeline.enforcer.rules import Event, Outcome, Policy, apply
from pipeline.enforcer.state import LedgerStore, check_ledger, restore
from pipeline.errors import ConfigError, PoisonRecord, TransientError
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.clients import kafka_client_options
from pipeline.kafka.deadletters import DeadLetters, Output
from pipeline.kafka.loop import Batch, BatchResult, ProcessingLoop
from pipeline.telemetry.metrics import LoopMetrics, register_process, serve

log = logging.getLogger(__name__)


def utc_now() -> str:
    """The current time, RFC 3339 UTC with milliseconds: the `issued_at` of new actions."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Enforcer:
    """The enforcer's processor: events in, actions and ledger records out.

    Args:
        config: topics, `[enforcer]`, `[ladder]`, `policy.ng_action`, `worker.max_record_bytes`.
        metrics: the enforcer's metric families.
        clock: `issued_at` of new actions (tests pin it).
    """

    name = "enforcer"
    #: A user's violations and decisions must meet in one member: partition p of both topics.
    copartitioned = True

    def __init__(self, config: Config, metrics: EnforcerMetrics,
                 clock: Callable[[], str] = utc_now) -> None:
        self.config = config
        self.metrics = metrics
        self.clock = clock
        t = config.topics
        self._violations, self._decisions = t.violations, t.decisions
        self._actions, self._ledger = t.actions, t.ledger
        self.policy = Policy.of(config.ladder, config.enforcer, config.policy.ng_action)
        self.store = LedgerStore()
        self._owned: set[TopicPartition] = set()
        #: Ledgers of the batch in hand, by (partition, key), and their changelog values: the
        #: values become the state once the batch commits.
        self._pending: dict[tuple[int, bytes], Ledger] = {}
        self._staged: dict[tuple[int, bytes], bytes] = {}

    @property
    def topics(self) -> Sequence[str]:
        """The input topics."""
        return (self._violations, self._decisions)

    # -- partitions -------------------------------------------------------------------------

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        """Restore the ledgers of partitions new to this member from the changelog."""
        self._owned |= partitions
        await self._restore({tp.partition for tp in partitions})

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        """Forget the ledgers of partitions this member no longer reads from either topic."""
        self._owned -= partitions
        kept = {tp.partition for tp in self._owned}
        self.store.drop({tp.partition for tp in partitions} - kept)
        self.metrics.ledger_users.set(self.store.users())

    async def _restore(self, partitions: set[int]) -> None:
        elapsed = await restore(self.config, self.store, partitions)
        if elapsed:
            self.metrics.restore_seconds.observe(elapsed)
        self.metrics.ledger_users.set(self.store.users())

    # -- batches ----------------------------------------------------------------------------

    async def process(self, batch: Batch, dlq: DeadLetters) -> BatchResult:
        """Apply a batch's events; outputs are its actions (new, or again for a replayed
        event) and the last ledger of every user it touched."""
        # Partitions whose state was dropped after a failed batch are read back first.
        await self._restore({tp.partition for tp in batch})
        entry = dict(self._pending), dict(self._staged)
        try:
            return self._process(batch, dlq)
        except BaseException:
            # The loop retries record by record: leave nothing of this call behind.
            self._pending, self._staged = entry
            raise

    def _process(self, batch: Batch, dlq: DeadLetters) -> BatchResult:
        max_bytes = self.config.worker.max_record_bytes
        now = self.clock()
        outputs: list[Output] = []
        outcomes: list[Outcome] = []
        touched: dict[tuple[int, bytes], None] = {}  # the batch's changed users, in order
        pending = self._pending
        for tp, records in batch.items():
            decode = decode_violation if tp.topic == self._violations else decode_decision
            for record in records:
                try:
                    event: Event = decode(record.value, record.key, max_bytes=max_bytes)
                    key = user_key(event.site_id, event.user_id)
                    slot = (tp.partition, key)
                    ledger = pending.get(slot)
                    if ledger is None:
                        ledger = check_ledger(self.store, tp.partition, key)
                    outcome = apply(ledger, event, now, self.policy)
                except PoisonRecord as exc:
                    outputs.append(dlq.record(record, exc.reason, exc.message))
                    continue
                for action in outcome.actions:
                    outputs.append(Output(self._actions, key, encoder.encode(action),
                                          origin=record))
                if outcome.changed:
                    pending[slot] = outcome.ledger
                    touched[slot] = None
                outcomes.append(outcome)
        for slot in touched:
            value = self._staged[slot] = encode_ledger(pending[slot])
            # Changelog partition p holds the ledgers of input partition p, whatever hash the
            # producers of the inputs used.
            outputs.append(Output(self._ledger, slot[1], value, partition=slot[0]))
        return BatchResult(outputs, on_commit=lambda: self._commit(outcomes),
                           on_abort=lambda: self._abort(batch))

    def _commit(self, outcomes: list[Outcome]) -> None:
        """The batch is committed: its ledgers are the partitions' state now."""
        if self._staged:
            self.store.put(self._staged)
        self._pending, self._staged = {}, {}
        self.metrics.count(outcomes)
        self.metrics.ledger_users.set(self.store.users())

    def _abort(self, batch: Batch) -> None:
        """The batch will be processed again. Some of its ledger records may have reached the
        changelog already: the partitions are read back from it before their next batch."""
        self._pending, self._staged = {}, {}
        partitions = {tp.partition for tp in batch}
        self.store.drop(partitions)
        log.info("batch not committed; ledger partitions %s will be restored from %s",
                 sorted(partitions), self._ledger)


async def check_changelog(config: Config) -> None:
    """Make sure the changelog exists with the partition count of the input topics (the
    ledgers of input partition p are changelog partition p).

    Raises:
        ConfigError: the counts differ.
    """
    t = config.topics
    # Everything the enforcer reads or writes: on a cluster that does not create topics on
    # first use, a missing DLQ or actions topic would stall the loop.
    await ensure_topics(config, [t.violations, t.decisions, t.ledger, t.actions,
                                 t.dlq(t.violations), t.dlq(t.decisions)])
    admin = AIOKafkaAdminClient(**kafka_client_options(config.kafka),
                                client_id=config.kafka.client_id)
    await admin.start()
    try:
        described = await admin.describe_topics([t.violations, t.decisions, t.ledger])
    finally:
        await admin.close()
    counts = {d["topic"]: len(d.get("partitions") or ()) for d in described}
    if len(set(counts.values())) > 1:
        raise ConfigError(
            "topics.ledger: the changelog must have the partitions of its inputs, found "
            + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())))


def build(config: Config, registry: CollectorRegistry,
          loop_metrics: LoopMetrics | None = None) -> tuple[ProcessingLoop, Enforcer]:
    """An enforcer and its loop, with their metric families on `registry`; `loop_metrics` are
    the loop families already on it, when another service of the process made them."""
    metrics = EnforcerMetrics(registry, Policy.of(
        config.ladder, config.enforcer).ladders.categories() | {config.enforcer.patrol_category})
    enforcer = Enforcer(config, metrics)
    loop = ProcessingLoop(config, enforcer, loop_metrics or LoopMetrics(registry),
                          group_id=config.enforcer.group_id)
    return loop, enforcer


async def run_enforcer(config: Config, stop: asyncio.Event,
                       registry: CollectorRegistry | None = None,
                       loop_metrics: LoopMetrics | None = None) -> None:
    """Run one enforcer until `stop` is set: the `enforce` command, or in-process next to
    other services (the demo) on their `registry` and `loop_metrics`.

    Raises:
        ConfigError: the changelog's partitions do not match the inputs'.
    """
    own_registry = registry is None
    registry = registry if registry is not None else CollectorRegistry()
    if own_registry:
        register_process(registry)
    loop, _ = build(config, registry, loop_metrics)
    if own_registry and config.metrics.port:
        serve(registry, config.metrics.host, config.metrics.port, loop.ready)
        log.info("metrics on http://%s:%d/metrics, readiness on /ready", config.metrics.host,
                 config.metrics.port)
    while not stop.is_set():
        try:
            await check_changelog(config)
            break
        except (KafkaError, TransientError, OSError) as exc:
            log.warning("cannot check the ledger changelog yet (%s); retrying", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), config.worker.max_retry_backoff_ms / 1000)
    await loop.run(stop)


async def run_service(config: Config) -> None:
    """The `enforce` command: one enforcer until SIGTERM/SIGINT."""
    from pipeline.filter.service import stop_on_signals

    stop = asyncio.Event()
    stop_on_signals(stop)
    log.info("effective configuration: %s", effective(config))
    await run_enforcer(config, stop)
    log.info("enforcer stopped cleanly")
