"""The processing loop every consumer-group service runs (I/O shell).

    fetch a batch → processor.process(batch) → produce every output, await every ack → commit

A service (the filter, the enforcer, the console's ingest) is a `Processor`: the topics it reads
and a `process` function from a batch of records to the outputs they yield. The loop owns the
rest, the same way for every service:

- **At-least-once.** A batch's offsets (`last + 1` per partition) are committed only after every
  output of the batch was acknowledged (`acks=all`). A failed produce calls the batch's
  `on_abort`, rewinds and fetches the batch again; outputs carry stable ids, so a replay makes
  duplicates, never a loss. Only committed work is counted: `on_commit` runs after the commit.
- **No record halts a partition.** A record the processor cannot use is a DLQ output of its own
  (`DeadLetters`); a batch whose processing raises is processed record by record, and the record
  that raises goes to the DLQ as `internal_error`; a record batch that cannot even be read
  (corrupt, or compressed with a codec this process lacks) is skipped one offset at a time, each
  with a DLQ record naming topic, partition, offset and the error; an output the broker refuses
  (too large, say) sends its input record to the DLQ instead, and a DLQ copy that is refused is
  cut down until it fits. Each failure is classified once (`pipeline.kafka.faults`): only a
  retriable one (the broker is unreachable) is retried, with backoff.
- **Broker outages** are reported by `BrokerHealth` (a gauge, `/ready`, one warning) and retried
  with backoff, from the very start: a service started before its broker waits for it.
- **Rebalances** wait for the batch in hand to commit before partitions are revoked; the
  processor hears of assignments (to restore state) and revocations.
- **A stuck commit** (seen with aiokafka after a broker restart) times out after
  `worker.commit_timeout_ms`; the consumer is replaced and the group rejoined.
- **Lag** per owned partition (high watermark minus the committed offset) is set from
  assignment on and after every fetch, so a stuck service shows a growing backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from pipeline.config import Config
from pipeline.errors import MimamoriError, PoisonRecord
from pipeline.kafka import compat
from pipeline.kafka.clients import KeyHashCache, make_consumer, make_producer
from pipeline.kafka.deadletters import DeadLetters, Output
from pipeline.kafka.faults import classify_fetch, classify_produce, describe
from pipeline.kafka.health import BrokerHealth
from pipeline.telemetry.metrics import LoopMetrics

log = logging.getLogger(__name__)

Record = ConsumerRecord[bytes, bytes]
Batch = dict[TopicPartition, list[Record]]


@dataclass
class BatchResult:
    """What a processor made of one batch.

    Attributes:
        outputs: produced, and acknowledged by the broker, before the batch's offsets commit.
        on_commit: runs once the offsets are committed (count metrics, apply staged state).
        on_abort: runs when the outputs could not all be produced; the batch is fetched and
            processed again.
    """

    outputs: list[Output]
    on_commit: Callable[[], None] | None = None
    on_abort: Callable[[], None] | None = None


class Processor(Protocol):
    """A consumer-group service's own part of the loop.

    `process` turns every record into outputs or a DLQ output (`dlq.record(...)`); it should not
    raise for a bad record, and when it raises it must leave no staged state behind (the loop
    then processes the batch one record at a time).
    """

    @property
    def name(self) -> str:
        """The service's name: the `service` label of the loop metrics, and in log lines."""
        ...

    @property
    def topics(self) -> Sequence[str]:
        """The input topics."""
        ...

    async def process(self, batch: Batch, dlq: DeadLetters) -> BatchResult:
        """The outputs of a batch of records."""
        ...

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        """Partitions were assigned to this member (restore their state here)."""
        ...

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        """Partitions are taken away, after the batch in hand committed."""
        ...


class _Listener(ConsumerRebalanceListener):
    def __init__(self, loop: ProcessingLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._loop.lock:  # the batch in hand finishes first
            await self._loop.revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._loop.assigned(assigned)


class ProcessingLoop:
    """One member of a consumer group running a `Processor`."""

    def __init__(self, config: Config, processor: Processor, metrics: LoopMetrics, *,
                 group_id: str | None = None) -> None:
        self.config = config
        self.processor = processor
        self.metrics = m = metrics.bind(processor.name)
        self.group_id = group_id or config.kafka.group_id
        self.dead_letters = DeadLetters(config.topics)
        self.health = BrokerHealth(m, config.kafka.retry_backoff_ms / 1000,
                                   config.worker.max_retry_backoff_ms / 1000)
        self.lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        #: The producer's partitioner, which `_send_batches` asks too.
        self._partitioner = KeyHashCache()
        self._started = False
        self._stopping = False
        self._consumer_stuck = False
        self._last_probe = 0.0
        self._last_lag_refresh = 0.0
        #: The committed offset (next to process) of each owned partition, where known.
        self._committed: dict[TopicPartition, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Retriable processing failures in a row (for the backoff).
        self._process_failures = 0

    # --- life cycle ------------------------------------------------------------------------

    def ready(self) -> tuple[bool, str]:
        """Readiness for `/ready`: started, not stopping, and the broker answers."""
        if self._stopping:
            return False, "stopping"
        if not self._started:
            return False, ("starting" if self.health.connected else self.health.describe())
        return self.health.connected, self.health.describe()

    def assignment(self) -> set[TopicPartition]:
        """The partitions this member owns now (empty before it joined the group)."""
        return set(self._consumer.assignment()) if self._consumer is not None else set()

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until `stop` is set, then finish the batch in hand and leave.

        Waits for the broker with backoff if it cannot be reached at start.
        """
        if not await self.start(stop):
            return
        self._started = True
        try:
            while not stop.is_set():
                await self.run_once()
        finally:
            self._stopping = True
            await asyncio.wait_for(self.close(),
                                   timeout=self.config.worker.shutdown_timeout_ms / 1000)

    async def start(self, stop: asyncio.Event | None = None) -> bool:
        """Connect the producer and join the group, retrying with backoff while the broker
        cannot be reached. Returns False when `stop` was set first."""
        compat.install()
        while True:
            try:
                await self._connect()
                self.health.ok()
                return True
            except KafkaError as exc:
                pause = self.health.failed("connect", exc)
            if stop is None:
                await asyncio.sleep(pause)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=pause)
                if stop.is_set():
                    return False

    async def _connect(self) -> None:
        producer = make_producer(self.config, self._partitioner)
        try:
            await producer.start()
            self._consumer = await self._subscribed_consumer()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def _subscribed_consumer(self) -> AIOKafkaConsumer:
        consumer = make_consumer(self.config, group_id=self.group_id,
                                 copartitioned=getattr(self.processor, "copartitioned", False))
        consumer.subscribe(list(self.processor.topics), listener=_Listener(self))
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        return consumer

    async def close(self) -> None:
        """Leave the group and flush the producer."""
        for task in list(self._tasks):
            task.cancel()
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        try:
            if consumer is not None:
                await consumer.stop()
        finally:
            if producer is not None:
                await producer.stop()

    async def _replace_consumer(self) -> None:
        """Leave the group with a stuck consumer (as far as it can) and join with a new one.

        The new member starts from the committed offsets: whatever the old one processed
        without committing is replayed (duplicates with the same ids, never a loss).
        """
        old = self._consumer
        assert old is not None
        self._consumer = None
        self._committed.clear()
        try:
            await asyncio.wait_for(old.stop(), timeout=self.config.kafka.session_timeout_ms / 1000)
        except (TimeoutError, KafkaError) as exc:
            log.warning("the old consumer did not stop cleanly (%s); abandoning it", describe(exc))
        while True:
            try:
                self._consumer = await self._subscribed_consumer()
                break
            except KafkaError as exc:
                await asyncio.sleep(self.health.failed("rejoin", exc))
        log.info("rejoined the group with a new consumer")

    # --- rebalances ------------------------------------------------------------------------

    async def assigned(self, partitions: set[TopicPartition]) -> None:
        """Called by the rebalance listener: tell the processor, start the lag series."""
        log.info("%s assigned %s", self.processor.name,
                 sorted((tp.topic, tp.partition) for tp in partitions))
        await self.processor.on_assigned(partitions)
        if partitions:
            # Outside the listener: offset lookups must not hold up the group's rebalance.
            task = asyncio.create_task(self._start_lag(partitions))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _start_lag(self, partitions: set[TopicPartition]) -> None:
        """A lag series for every newly assigned partition, before its first fetch."""
        consumer = self._consumer
        if consumer is None:
            return
        try:
            for tp in partitions:
                committed = await consumer.committed(tp)
                if committed is None:
                    committed = (await consumer.beginning_offsets([tp]))[tp]
                self._committed.setdefault(tp, committed)
            ends = await consumer.end_offsets(list(partitions))
        except (KafkaError, IllegalStateError) as exc:  # the lag shows after a fetch instead
            log.debug("lag at assignment unknown: %s", describe(exc))
            return
        for tp, end in ends.items():
            if tp in consumer.assignment():
                self._set_lag(tp, max(end, consumer.highwater(tp) or 0))

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Called by the rebalance listener with the batch lock held."""
        await self.processor.on_revoked(partitions)
        for tp in partitions:
            self._committed.pop(tp, None)
            self.metrics.forget_lag(tp.topic, tp.partition)

    # --- the loop --------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Fetch one batch and process it; returns the number of records committed."""
        consumer = self._consumer
        assert consumer is not None, "start() first"
        try:
            batch = await consumer.getmany(timeout_ms=self.config.kafka.fetch_max_wait_ms,
                                           max_records=self.config.worker.max_batch_records)
        except KafkaError as exc:
            return await self._fetch_failed(exc)
        self._refresh_lag(batch.keys())
        if not batch:
            await self._probe_when_idle()
            return 0
        async with self.lock:
            handled = await self._handle(batch)
        if self._consumer_stuck:
            self._consumer_stuck = False
            await self._replace_consumer()
        return handled

    async def _fetch_failed(self, exc: KafkaError) -> int:
        fault = classify_fetch(exc)
        if fault.retriable:
            self.metrics.error("fetch")
            await asyncio.sleep(self.health.failed("fetch", exc))
            return 0
        async with self.lock:
            return await self._skip_unreadable(fault)

    async def _handle(self, batch: Batch) -> int:
        """Process, produce, commit one batch; returns the records committed (0 if replayed)."""
        m = self.metrics
        started = time.perf_counter()
        total = sum(len(records) for records in batch.values())
        m.in_flight.set(total)
        m.batch_records.observe(total)
        try:
            result = await self._process(batch)
        except MimamoriError as exc:  # retriable: the processor's own store is away, say
            await self._process_failed(batch, exc)
            return 0
        self._process_failures = 0
        m.record_seconds.observe((time.perf_counter() - started) / total)
        produced = await self._produce(result.outputs)
        if produced is None:
            if result.on_abort is not None:
                result.on_abort()
            self._rewind(batch)
            m.in_flight.set(0)
            return 0
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
        committed = await self._commit(offsets)
        m.in_flight.set(0)
        if not committed:
            if result.on_abort is not None:
                result.on_abort()
            return 0
        for tp, records in batch.items():
            m.consumed(tp.topic, len(records))
        self._count(produced)
        if result.on_commit is not None:
            result.on_commit()
        m.batch_seconds.observe(time.perf_counter() - started)
        return total

    async def _process_failed(self, batch: Batch, exc: MimamoriError) -> None:
        """A retriable failure of the processor (its database is unreachable, say): nothing of
        the batch is committed; it is fetched again after a backoff, and no record of it goes
        to the DLQ, since none is at fault."""
        self._process_failures += 1
        self.metrics.error("process")
        if self._process_failures == 1 or self._process_failures % 10 == 0:
            log.warning("%s: processing failed (%s, %d time(s) in a row); replaying the batch "
                        "with backoff", self.processor.name, exc, self._process_failures)
        self._rewind(batch)
        self.metrics.in_flight.set(0)
        w, k = self.config.worker, self.config.kafka
        await asyncio.sleep(min(w.max_retry_backoff_ms / 1000,
                                k.retry_backoff_ms / 1000 * 2 ** (self._process_failures - 1)))

    async def _process(self, batch: Batch) -> BatchResult:
        """`processor.process`; if it raises, the batch again one record at a time, so only
        the record that makes it raise goes to the DLQ.

        Raises:
            MimamoriError: a retriable one from the processor (`exc.retriable`): the batch is
                replayed instead, with nothing sent to the DLQ.
        """
        try:
            return await self.processor.process(batch, self.dead_letters)
        except Exception as exc:
            if isinstance(exc, MimamoriError) and exc.retriable:
                raise
            log.exception("%s: processing a batch failed; processing it record by record",
                          self.processor.name)
            self.metrics.error("process")
        outputs: list[Output] = []
        commits: list[Callable[[], None]] = []
        aborts: list[Callable[[], None]] = []
        for tp, records in batch.items():
            for record in records:
                try:
                    one = await self.processor.process({tp: [record]}, self.dead_letters)
                except Exception as exc:
                    if isinstance(exc, MimamoriError) and exc.retriable:
                        for abort in aborts:  # the records before it are replayed too
                            abort()
                        raise
                    log.error("%s: internal error on %s[%d]@%d", self.processor.name,
                              record.topic, record.partition, record.offset, exc_info=exc)
                    outputs.append(self.dead_letters.record(record, "internal_error",
                                                            describe(exc)))
                    continue
                outputs.extend(one.outputs)
                if one.on_commit is not None:
                    commits.append(one.on_commit)
                if one.on_abort is not None:
                    aborts.append(one.on_abort)
        return BatchResult(outputs, _chain(commits), _chain(aborts))

    async def _produce(self, outputs: list[Output]) -> list[Output] | None:
        """Send every output and wait for every acknowledgement.

        Small keyed outputs go as record batches, one per topic-partition (`_send_all`); the
        records of a record batch refused for what it holds are then sent one at a time. An
        output the broker refuses for what it is (too large, say) is replaced: a DLQ copy by a
        shorter one, any other output by the DLQ copy of its input record. Returns what was
        acknowledged, or None when a retriable failure (of a record or a record batch) means
        the batch must be replayed.
        """
        acknowledged: list[Output] = []
        pending = outputs
        batched = True
        # Rounds: record batches first, then one at a time, then replacements, each shorter.
        for _ in range(5):
            refused: list[tuple[Output, MimamoriError]] = []
            sent: list[tuple[list[Output], asyncio.Future[object], bool]] = []
            await self._send_all(pending, batched, sent, refused)
            batched = False
            again: list[Output] = []  # the records of a failed record batch
            failures = await _failures([f for _, f, _ in sent])
            for group, future, is_batch in sent:
                error = failures.get(future)
                if error is None:
                    acknowledged.extend(group)
                elif is_batch:
                    fault = classify_produce(error)
                    if fault.retriable:  # the broker is away: replay, as for any record
                        refused.append((group[0], fault))
                    else:  # one of its records is refused: find which, one by one
                        again.extend(group)
                else:
                    refused.append((group[0], classify_produce(error)))
            transient = [fault for _, fault in refused if fault.retriable]
            if transient:
                self.metrics.error("produce")
                log.debug("producing outputs failed, replaying the batch: %s", transient[0])
                await asyncio.sleep(self.health.failed("produce", transient[0]))
                return None
            if not refused and not again:
                if sent:  # the broker acknowledged something: it is there
                    self.health.ok()
                return acknowledged
            pending = again + [self._replacement(output, fault) for output, fault in refused]
        for output in pending:
            log.error("%s: giving up on an output to %s that the broker keeps refusing",
                      self.processor.name, output.topic)
            self.metrics.error("unproducible")
        return acknowledged

    async def _send_all(self, outputs: list[Output], batched: bool,
                        sent: list[tuple[list[Output], asyncio.Future[object], bool]],
                        refused: list[tuple[Output, MimamoriError]]) -> None:
        """Hand every output to the producer, in order; what was sent goes to `sent` (with
        its future, and whether it is a record batch), what the client refused to `refused`.

        With `batched`, each small keyed output (not a DLQ copy, no headers) joins the open
        record batch of its topic-partition, the partition the producer itself would pick
        (`clients.KeyHashCache`): a raid's worker writes two or three outputs per post, and a
        record batch costs the client far less per record than a send. Any other output first
        sends the open batches, so the producer is handed the records in their order.
        """
        producer = self._producer
        assert producer is not None
        open_batches: dict[tuple[str, int], tuple[Any, list[Output]]] = {}  # aiokafka BatchBuilder
        topic_partitions: dict[str, list[int]] = {}

        async def send_open() -> None:
            for (topic, partition), (builder, members) in open_batches.items():
                try:
                    future = await producer.send_batch(builder, topic, partition=partition)
                except Exception as exc:
                    fault = classify_produce(exc)
                    if fault.retriable:  # no room or no broker: the batch is replayed
                        refused.extend((output, fault) for output in members)
                    else:  # refused for what it holds: its records one by one
                        for output in members:
                            await self._send_one(output, sent, refused)
                else:
                    sent.append((members, future, True))
            open_batches.clear()

        for output in outputs:
            tp = await self._batch_partition(output, topic_partitions) if batched else None
            if tp is None:
                await send_open()
                await self._send_one(output, sent, refused)
                continue
            builder, members = open_batches.get(tp) or (producer.create_batch(), [])
            if builder.append(timestamp=None, key=output.key, value=output.value,
                              headers=[]) is None:  # full: send what it holds, start anew
                await send_open()
                builder, members = producer.create_batch(), []
                if builder.append(timestamp=None, key=output.key, value=output.value,
                                  headers=[]) is None:
                    await self._send_one(output, sent, refused)
                    continue
            members.append(output)
            open_batches[tp] = (builder, members)
        await send_open()

    async def _batch_partition(self, output: Output,
                               topic_partitions: dict[str, list[int]]) -> tuple[str, int] | None:
        """The topic-partition of an output that may go in a record batch, else None."""
        key, value = output.key, output.value
        if (key is None or value is None or output.headers or output.dlq_reason is not None
                or len(key) + len(value) > _BATCHED_MAX_BYTES):
            return None
        if output.partition is not None:
            return output.topic, output.partition
        known = topic_partitions.get(output.topic)
        if known is None:
            assert self._producer is not None
            try:
                known = sorted(await self._producer.partitions_for(output.topic))
            except KafkaError:  # no metadata yet: `send` will say what is wrong
                known = []
            topic_partitions[output.topic] = known
        if not known:
            return None
        return output.topic, self._partitioner(key, known, known)

    async def _send_one(self, output: Output,
                        sent: list[tuple[list[Output], asyncio.Future[object], bool]],
                        refused: list[tuple[Output, MimamoriError]]) -> None:
        producer = self._producer
        assert producer is not None
        try:
            future = await producer.send(output.topic, output.value, key=output.key,
                                         partition=output.partition, headers=output.headers)
        except KafkaError as exc:  # too large for the client, or no metadata yet
            refused.append((output, classify_produce(exc)))
        except Exception as exc:  # the client's own checks of a key, value or header
            refused.append((output, PoisonRecord("unproducible", describe(exc))))
        else:
            sent.append(([output], future, False))

    def _replacement(self, output: Output, fault: MimamoriError) -> Output:
        log.warning("%s: the broker refused an output to %s (%s)", self.processor.name,
                    output.topic, fault)
        if output.dlq_reason is not None:  # a DLQ copy: cut it down
            return self.dead_letters.truncated(output, max(1024, len(output.value or b"") // 4))
        if output.origin is not None:
            return self.dead_letters.record(output.origin, "unproducible",
                                            f"output to {output.topic} refused: {fault}")
        return self.dead_letters.refused(output, self.processor.topics[0], str(fault))

    async def _commit(self, offsets: dict[TopicPartition, int]) -> bool:
        """Commit `offsets`; returns whether they are committed."""
        consumer = self._consumer
        assert consumer is not None
        m = self.metrics
        try:
            await asyncio.wait_for(consumer.commit(offsets),
                                   timeout=self.config.worker.commit_timeout_ms / 1000)
        except TimeoutError:
            m.commit("stuck")
            log.warning("commit did not complete in %.0fs; replacing the consumer",
                        self.config.worker.commit_timeout_ms / 1000)
            self._consumer_stuck = True  # replaced by run_once, outside the rebalance lock
            return False
        except (CommitFailedError, IllegalStateError) as exc:
            # The partitions moved to another member during a rebalance; it replays from the
            # last committed offset, so outputs may repeat (same ids) but none is lost.
            m.commit("rebalanced")
            log.info("commit skipped after rebalance: %s", exc)
            return False
        except KafkaError as exc:
            m.commit("failed")
            log.warning("commit failed; the batch will be replayed: %s", describe(exc))
            await asyncio.sleep(self.health.failed("commit", exc))
            return False
        m.commit("ok")
        m.last_processed.set(time.time())
        self._committed.update(offsets)
        self._refresh_lag(offsets.keys())
        return True

    def _rewind(self, batch: Batch) -> None:
        consumer = self._consumer
        assert consumer is not None
        for tp, records in batch.items():
            with contextlib.suppress(IllegalStateError):  # revoked meanwhile
                consumer.seek(tp, records[0].offset)

    def _count(self, produced: list[Output]) -> None:
        m = self.metrics
        for topic, n in Counter(o.topic for o in produced).items():
            m.produced(topic, n)
        for reason, n in Counter(o.dlq_reason for o in produced if o.dlq_reason).items():
            m.dead_lettered(reason, n)

    async def _skip_unreadable(self, fault: MimamoriError) -> int:
        """A record batch cannot be read. Find its partition (reading every owned partition one
        record at a time, so the records before the bad batch come out), commit what could be
        read, then skip the bad batch's first offset with a DLQ record that names it. The next
        fetch meets the batch's next offset, and so on."""
        consumer = self._consumer
        assert consumer is not None
        readable: Batch = {}
        unreadable: list[tuple[TopicPartition, int, str]] = []
        for tp in sorted(consumer.assignment()):
            records: list[Record] = []
            while len(records) < self.config.worker.max_batch_records:
                try:
                    got = await consumer.getmany(
                        tp, timeout_ms=self.config.kafka.fetch_max_wait_ms * 2, max_records=1)
                except KafkaError as exc:
                    problem = classify_fetch(exc)
                    if not problem.retriable:
                        unreadable.append((tp, await consumer.position(tp), str(problem)))
                    break
                if not got:
                    break
                records.extend(got.get(tp, []))
            if records:
                readable[tp] = records
        handled = 0
        if readable:
            handled = await self._handle(readable)
            if not handled:  # replayed: the unreadable offsets wait for the next round
                return 0
        for tp, offset, message in unreadable:
            handled += await self._skip_offset(tp, offset, message)
        if not readable and not unreadable:
            log.warning("%s: a fetch failed with %s, but no partition reproduced it",
                        self.processor.name, fault)
        return handled

    async def _skip_offset(self, tp: TopicPartition, offset: int, message: str) -> int:
        log.error("%s: %s[%d]@%d cannot be read (%s); skipping it with a DLQ record",
                  self.processor.name, tp.topic, tp.partition, offset, message)
        dlq = self.dead_letters.unreadable(tp.topic, tp.partition, offset, message)
        if await self._produce([dlq]) is None:
            return 0
        if not await self._commit({tp: offset + 1}):
            return 0
        consumer = self._consumer
        assert consumer is not None
        consumer.seek(tp, offset + 1)
        self.metrics.consumed(tp.topic, 1)
        self._count([dlq])
        return 1

    # --- idle time -------------------------------------------------------------------------

    async def _probe_when_idle(self) -> None:
        """With nothing to fetch, ask the broker for metadata now and then: an empty fetch
        looks the same whether the topics are quiet or the broker is gone."""
        now = time.monotonic()
        interval_s = self.config.worker.health_check_interval_ms / 1000
        if now - self._last_probe < interval_s:
            return
        self._last_probe = now
        consumer = self._consumer
        assert consumer is not None
        try:
            await asyncio.wait_for(consumer.topics(), timeout=max(1.0, interval_s))
        except (KafkaError, TimeoutError) as exc:
            await asyncio.sleep(self.health.failed("metadata", exc))
        else:
            self.health.ok()

    def _refresh_lag(self, fetched: Iterable[TopicPartition]) -> None:
        """Lag of the partitions just fetched, and of every owned partition now and then."""
        consumer = self._consumer
        if consumer is None:
            return
        now = time.monotonic()
        partitions = set(fetched)
        if now - self._last_lag_refresh >= self.config.worker.lag_refresh_interval_ms / 1000:
            self._last_lag_refresh = now
            partitions |= consumer.assignment()
        for tp in partitions:
            highwater = consumer.highwater(tp)
            if highwater is not None:
                self._set_lag(tp, highwater)

    def _set_lag(self, tp: TopicPartition, end: int) -> None:
        committed = self._committed.get(tp)
        if committed is not None:
            self.metrics.set_lag(tp.topic, tp.partition, max(0, end - committed))


#: Outputs up to this size (key and value) go in record batches; larger ones are sent alone, so
#: that one cannot push a batch past the request size limit.
_BATCHED_MAX_BYTES = 65_536


async def _failures(futures: list[asyncio.Future[object]]) -> dict[asyncio.Future[object],
                                                                   BaseException]:
    """Wait for the acknowledgements of `futures`; returns the failed ones with their errors.

    Returns at the first retriable failure (the batch is replayed anyway, so waiting out the
    other sends' timeouts would only delay reporting the outage); otherwise waits for all.
    """
    pending: set[asyncio.Future[object]] = set(futures)
    failed: dict[asyncio.Future[object], BaseException] = {}
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
        for future in done:
            exc = future.exception()
            if exc is not None:
                failed[future] = exc
        if any(classify_produce(exc).retriable for exc in failed.values()):
            for future in pending:  # its outcome no longer matters; mark it retrieved
                future.add_done_callback(_retrieve)
            return failed
    return failed


def _retrieve(future: asyncio.Future[object]) -> None:
    if not future.cancelled():
        future.exception()


def _chain(calls: list[Callable[[], None]]) -> Callable[[], None] | None:
    if not calls:
        return None

    def run_all() -> None:
        for call in calls:
            call()

    return run_all
