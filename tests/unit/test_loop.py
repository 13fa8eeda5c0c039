"""The processing loop's order of calls, pinned with fake clients.

These fakes only record calls and answer as told; Kafka behaviour itself is tested against the
real embedded broker (tests/integration/test_poison.py, test_stream.py, test_faults.py).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, UnsupportedCodecError

from pipeline.config import Config
from pipeline.errors import TransientError
from pipeline.kafka.deadletters import DeadLetters, Output
from pipeline.kafka.loop import Batch, BatchResult, ProcessingLoop
from pipeline.telemetry.metrics import Metrics

POSTS = TopicPartition("in", 0)
OTHER = TopicPartition("in", 1)


def record(tp: TopicPartition, offset: int, value: bytes = b"v") -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", value, None, len(value), 1,
                          [("trace", b"abc")])


class FakeConsumer:
    """Answers `getmany` from a script and records every call."""

    def __init__(self, fetches: list[Batch | BaseException]) -> None:
        self.fetches = fetches
        self.calls: list[tuple[Any, ...]] = []
        self.positions: dict[TopicPartition, int] = {}
        self.highwaters: list[int] = []

    async def getmany(self, *partitions: TopicPartition, timeout_ms: int = 0,
                      max_records: int | None = None) -> Batch:
        self.calls.append(("getmany", partitions))
        if not self.fetches:
            return {}
        step = self.fetches.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.calls.append(("commit", dict(offsets)))

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.calls.append(("seek", tp, offset))

    def assignment(self) -> set[TopicPartition]:
        return {POSTS, OTHER}

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.highwaters.pop(0) if self.highwaters and tp == POSTS else None

    async def position(self, tp: TopicPartition) -> int:
        return self.positions.get(tp, 0)

    async def topics(self) -> set[str]:
        return {"in"}


class FakeBuilder:
    """A record batch being filled (`FakeProducer.create_batch`)."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes | None, bytes | None]] = []

    def append(self, *, timestamp: float | None, key: bytes | None, value: bytes | None,
               headers: Sequence[tuple[str, bytes]]) -> object:
        self.records.append((key, value))
        return object()


class FakeProducer:
    """Acknowledges sends and record batches, or fails those holding a value in `fail` with
    its error: the first time only, or every time when `sticky` (a record the broker refuses
    for what it is)."""

    def __init__(self, log: list[tuple[Any, ...]], fail: dict[bytes, BaseException]) -> None:
        self.log = log
        self.fail = dict(fail)
        self.sent: list[tuple[str, bytes | None, bytes | None]] = []
        #: The record batches sent: topic, partition and how many records.
        self.batches: list[tuple[str, int, int]] = []
        #: Fail every send of those values, not just the first.
        self.sticky = False

    async def send(self, topic: str, value: bytes | None, key: bytes | None = None,
                   partition: int | None = None,
                   headers: Sequence[tuple[str, bytes]] | None = None) -> asyncio.Future[None]:
        self.log.append(("send", topic, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        error = (self.fail.get if self.sticky else self.fail.pop)(value or b"", None)
        if error is not None:
            future.set_exception(error)
        else:
            self.sent.append((topic, key, value))
            future.set_result(None)
        return future

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    def create_batch(self) -> FakeBuilder:
        return FakeBuilder()

    async def send_batch(self, batch: FakeBuilder, topic: str, *,
                         partition: int) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        take = self.fail.get if self.sticky else self.fail.pop
        errors = [error for _, value in batch.records
                  if (error := take(value or b"", None)) is not None]
        self.batches.append((topic, partition, len(batch.records)))
        for _, value in batch.records:
            self.log.append(("send", topic, value))
        if errors:
            future.set_exception(errors[0])
        else:
            self.sent.extend((topic, key, value) for key, value in batch.records)
            future.set_result(None)
        return future


class Echo:
    """A processor that turns each record into one output, `value` upper-cased."""

    name = "echo"
    topics = ("in",)

    def __init__(self, raise_on: bytes | None = None,
                 unavailable_on: bytes | None = None) -> None:
        self.raise_on = raise_on
        #: A record whose processing finds the processor's own store away (retriable).
        self.unavailable_on = unavailable_on
        self.committed: list[int] = []
        self.aborted = 0

    async def process(self, batch: Batch, dlq: DeadLetters) -> BatchResult:
        outputs = []
        for records in batch.values():
            for r in records:
                if r.value == self.raise_on:
                    raise RuntimeError("a bug")
                if r.value == self.unavailable_on:
                    raise TransientError("the store is unreachable")
                outputs.append(Output("out", r.key, (r.value or b"").upper(), origin=r))
        n = len(outputs)
        return BatchResult(outputs, on_commit=lambda: self.committed.append(n),
                           on_abort=self._abort)

    def _abort(self) -> None:
        self.aborted += 1

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        pass

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        pass


def make_loop(processor: Echo, fetches: list[Batch | BaseException],
              fail: dict[bytes, BaseException] | None = None,
              ) -> tuple[ProcessingLoop, FakeConsumer, FakeProducer, Metrics]:
    metrics = Metrics()
    loop = ProcessingLoop(Config(), processor, metrics.loop, group_id="g")
    consumer = FakeConsumer(fetches)
    producer = FakeProducer(consumer.calls, fail or {})
    loop._consumer = consumer  # type: ignore[assignment]
    loop._producer = producer  # type: ignore[assignment]
    loop.health._base = loop.health._max = 0.0  # no backoff sleeps in a unit test
    return loop, consumer, producer, metrics


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, {"service": "echo", **labels}) or 0.0


def test_commit_comes_after_every_send_with_last_plus_one_offsets() -> None:
    loop, consumer, _, metrics = make_loop(Echo(), [
        {POSTS: [record(POSTS, 5, b"a"), record(POSTS, 6, b"b")], OTHER: [record(OTHER, 9)]}])
    assert asyncio.run(loop.run_once()) == 3
    assert [c for c in consumer.calls if c[0] != "getmany"] == [
        ("send", "out", b"A"), ("send", "out", b"B"), ("send", "out", b"V"),
        ("commit", {POSTS: 7, OTHER: 10})]
    assert sample(metrics, "mimamori_records_consumed_total", topic="in") == 3
    assert sample(metrics, "mimamori_outputs_total", topic="out") == 3
    assert sample(metrics, "mimamori_offset_commits_total", result="ok") == 1


def test_outputs_go_as_one_record_batch_per_partition_and_dlq_copies_alone() -> None:
    echo = Echo(raise_on=b"bad")
    loop, _, producer, _ = make_loop(echo, [
        {POSTS: [record(POSTS, 1, b"a"), record(POSTS, 2, b"b"), record(POSTS, 3, b"bad"),
                 record(POSTS, 4, b"c")]}])
    assert asyncio.run(loop.run_once()) == 4
    # A and B in one batch; the DLQ copy (headers) alone, after them; C in a batch of its own.
    assert producer.batches == [("out", 0, 2), ("out", 0, 1)]
    assert [(t, v) for t, _, v in producer.sent] == [
        ("out", b"A"), ("out", b"B"), ("in.dlq", b"bad"), ("out", b"C")]


def test_a_failed_send_rewinds_commits_nothing_and_counts_nothing() -> None:
    echo = Echo()
    batch = {POSTS: [record(POSTS, 5, b"a"), record(POSTS, 6, b"b")]}
    loop, consumer, _, metrics = make_loop(
        echo, [batch, batch], fail={b"B": KafkaTimeoutError()})
    assert asyncio.run(loop.run_once()) == 0
    assert ("seek", POSTS, 5) in consumer.calls
    assert not any(c[0] == "commit" for c in consumer.calls)
    assert (echo.aborted, echo.committed) == (1, [])
    assert sample(metrics, "mimamori_records_consumed_total", topic="in") == 0
    assert sample(metrics, "mimamori_outputs_total", topic="out") == 0
    assert sample(metrics, "mimamori_errors_total", kind="produce") == 1
    assert not loop.health.connected
    # The replay succeeds: everything is counted once, the batch committed once.
    assert asyncio.run(loop.run_once()) == 2
    assert [c for c in consumer.calls if c[0] == "commit"] == [("commit", {POSTS: 7})]
    assert echo.committed == [2]
    assert sample(metrics, "mimamori_records_consumed_total", topic="in") == 2
    assert sample(metrics, "mimamori_outputs_total", topic="out") == 2
    assert loop.health.connected


def test_lag_grows_while_the_batch_cannot_be_produced() -> None:
    batch = {POSTS: [record(POSTS, 5, b"a"), record(POSTS, 6, b"b")]}
    loop, consumer, producer, metrics = make_loop(Echo(), [batch, batch], fail={
        b"A": KafkaTimeoutError(), b"B": KafkaTimeoutError()})
    producer.sticky = True
    loop._committed[POSTS] = 5  # as read at assignment
    consumer.highwaters = [10, 20]  # more posts keep arriving
    lags = []
    for _ in range(2):
        assert asyncio.run(loop.run_once()) == 0
        lags.append(sample(metrics, "mimamori_consumer_lag_records", topic="in", partition="0"))
    assert lags == [5, 15]


def test_a_refused_output_sends_its_input_to_the_dlq_and_the_batch_commits() -> None:
    loop, consumer, producer, metrics = make_loop(
        Echo(), [{POSTS: [record(POSTS, 5, b"a"), record(POSTS, 6, b"b")]}],
        fail={b"B": MessageSizeTooLargeError()})
    producer.sticky = True  # too large in its record batch, and on its own
    assert asyncio.run(loop.run_once()) == 2
    assert [(t, v) for t, _, v in producer.sent] == [("out", b"A"), ("in.dlq", b"b")]
    assert [c for c in consumer.calls if c[0] == "commit"] == [("commit", {POSTS: 7})]
    assert sample(metrics, "mimamori_dlq_records_total", reason="unproducible") == 1


def test_a_batch_that_raises_is_processed_record_by_record() -> None:
    echo = Echo(raise_on=b"bad")
    loop, _, producer, metrics = make_loop(echo, [
        {POSTS: [record(POSTS, 1, b"a"), record(POSTS, 2, b"bad"), record(POSTS, 3, b"c")]}])
    assert asyncio.run(loop.run_once()) == 3
    assert [(t, v) for t, _, v in producer.sent] == [
        ("out", b"A"), ("in.dlq", b"bad"), ("out", b"C")]
    assert echo.committed == [1, 1]
    assert sample(metrics, "mimamori_dlq_records_total", reason="internal_error") == 1
    assert sample(metrics, "mimamori_errors_total", kind="process") == 1


def test_a_retriable_processing_failure_replays_the_batch_and_dead_letters_nothing() -> None:
    echo = Echo(unavailable_on=b"b")
    batch = {POSTS: [record(POSTS, 1, b"a"), record(POSTS, 2, b"b")]}
    loop, consumer, producer, metrics = make_loop(echo, [batch, batch])
    assert asyncio.run(loop.run_once()) == 0
    assert producer.sent == []
    assert ("seek", POSTS, 1) in consumer.calls
    assert not any(c[0] == "commit" for c in consumer.calls)
    assert sample(metrics, "mimamori_errors_total", kind="process") == 1
    assert sample(metrics, "mimamori_dlq_records_total", reason="internal_error") == 0
    assert loop.health.connected  # the broker is fine; it is the processor's store
    echo.unavailable_on = None  # the store is back
    assert asyncio.run(loop.run_once()) == 2
    assert [(t, v) for t, _, v in producer.sent] == [("out", b"A"), ("out", b"B")]
    assert echo.committed == [2]


def test_an_unreadable_batch_is_skipped_offset_by_offset_after_what_precedes_it() -> None:
    # The batch fetch fails; read one by one, partition 0 yields offset 4, then fails at 5;
    # partition 1 has nothing. Offset 4 is committed first, then 5 skipped with a DLQ record.
    echo = Echo()
    loop, consumer, producer, metrics = make_loop(echo, [
        UnsupportedCodecError("zstd"),
        {POSTS: [record(POSTS, 4, b"a")]}, UnsupportedCodecError("zstd"),  # partition 0
        {},  # partition 1
    ])
    consumer.positions[POSTS] = 5
    assert asyncio.run(loop.run_once()) == 2
    commits = [c for c in consumer.calls if c[0] == "commit"]
    assert commits == [("commit", {POSTS: 5}), ("commit", {POSTS: 6})]
    assert ("seek", POSTS, 6) in consumer.calls
    [dlq] = [(t, k, v) for t, k, v in producer.sent if t == "in.dlq"]
    assert dlq == ("in.dlq", None, b"")
    assert sample(metrics, "mimamori_dlq_records_total", reason="undecodable") == 1
    assert sample(metrics, "mimamori_records_consumed_total", topic="in") == 2


def test_a_transient_fetch_error_is_an_outage_not_a_record() -> None:
    loop, consumer, producer, metrics = make_loop(Echo(), [KafkaTimeoutError()])
    assert asyncio.run(loop.run_once()) == 0
    assert producer.sent == []
    assert not any(c[0] == "commit" for c in consumer.calls)
    assert sample(metrics, "mimamori_errors_total", kind="fetch") == 1
    assert not loop.health.connected
    assert loop.ready() == (False, "broker unreachable for 0s")


@pytest.mark.parametrize(("size", "truncated"), [(1000, False), (200_000, True)])
def test_dlq_copies_keep_headers_and_nulls_and_are_cut_to_fit(size: int,
                                                              truncated: bool) -> None:
    config = Config()
    dead = DeadLetters(config.topics, worker="w1")
    dead.max_bytes = 100_000
    value = b"x" * size
    copy = dead.record(ConsumerRecord("in", 3, 42, 0, 0, None, value, None, size, -1,
                                      [("trace", b"abc"), ("empty", None)]),  # type: ignore[list-item]
                       "oversized", "too big")
    headers = dict(copy.headers or [])
    assert copy.key is None
    assert (copy.topic, copy.dlq_reason) == ("in.dlq", "oversized")
    assert headers["dlq.original.topic"] == b"in"
    assert headers["dlq.original.partition"] == b"3"
    assert headers["dlq.original.offset"] == b"42"
    assert headers["dlq.error.type"] == b"oversized"
    assert headers["dlq.error.message"] == b"too big"
    assert headers["dlq.worker"] == b"w1"
    if not truncated:
        assert copy.value == value
        assert headers["dlq.original.header.trace"] == b"abc"
        assert headers["dlq.original.header.empty"] == b""
        assert "dlq.truncated" not in headers
        return
    assert copy.value is not None
    assert value.startswith(copy.value)
    assert 90_000 < len(copy.value) < 100_000
    assert headers["dlq.truncated"] == b"true"
    assert headers["dlq.original.size"] == b"200000"
    assert headers["dlq.original.sha256"] == hashlib.sha256(value).hexdigest().encode()
    assert "dlq.original.header.trace" not in headers


def test_a_record_with_neither_key_nor_value_says_so_on_the_dlq() -> None:
    dead = DeadLetters(Config().topics, worker="w1")
    copy = dead.record(ConsumerRecord("in", 0, 1, 0, 0, None, None, None, -1, -1, []),
                       "invalid_json", "record has no value (tombstone)")
    assert (copy.key, copy.value) == (None, b"")
    assert dict(copy.headers or [])["dlq.original.null"] == b"key,value"


def test_a_tombstone_stays_null_on_the_dlq() -> None:
    dead = DeadLetters(Config().topics, worker="w1")
    copy = dead.record(ConsumerRecord("in", 0, 1, 0, 0, b"k", None, None, -1, 1, []),
                       "invalid_json", "record has no value (tombstone)")
    assert (copy.key, copy.value) == (b"k", None)
