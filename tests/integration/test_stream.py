"""The filter workers against the real embedded broker."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import msgspec
import pytest

from pipeline.config import Config
from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Post
from pipeline.filter.service import build_core
from pipeline.filter.worker import FilterWorker
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.kafka.topicio import Record, committed_total, produce, read_all, wait_committed
from pipeline.telemetry.metrics import Metrics
from pipeline.tools.sample import generate, malformed_records
from tests.integration.conftest import fresh_config, start_worker
from tests.integration.helpers import (
    expected_ids,
    output_topics,
    produce_sample,
    read_ids,
    uncovered_commits,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

async def run_until_committed(workers: list[FilterWorker], config: Config,
                              expected: int, timeout_s: float = 60) -> None:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        done = await wait_committed(config.kafka.bootstrap_servers, config.kafka.group_id,
                                    [config.topics.posts, config.topics.reports], expected,
                                    timeout_s)
        assert done == expected
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_stream_yields_exactly_the_expected_outputs(broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers, max_batch_records=100)
    await ensure_topics(config)
    records = generate(600, seed=7, hit_ratio=0.3, report_ratio=0.05, malformed=False)
    await produce_sample(config, records)
    metrics = Metrics()
    core = build_core(config, metrics)
    await run_until_committed([FilterWorker(config, core, metrics)], config, len(records))

    got = await read_ids(config)
    want = expected_ids(core, config, records)
    assert set(got) == set(want)
    for topic, ids in want.items():
        assert sorted(got[topic]) == sorted(ids), topic  # exactly once on a clean run
    # Independent of the core: the sample's posts are written by hand to hit or to stay clean
    # (risky-looking clean ones included), and every report yields a review item.
    outputs = await read_all(config.kafka.bootstrap_servers, output_topics(config))
    with_outputs = {msgspec.json.decode(r.value or b"")["post_id"] for r in outputs
                    if r.topic != config.topics.review(config.policy.reports_queue)}
    for record in records:
        if record.kind in ("hit", "clean"):
            post_id = msgspec.json.decode(record.value)["post_id"]
            assert (post_id in with_outputs) == (record.kind == "hit"), record.value.decode()
    reports = sum(1 for r in records if r.kind == "report")
    assert len(got[config.topics.review(config.policy.reports_queue)]) == reports
    # A hand-checked case, independent of the core: post "お前しね" is deleted by id.
    hand = Post("hand-1", "site-09", "u1", "お前しね", "2026-11-23T00:00:00Z")
    await produce(config.kafka.bootstrap_servers,
                  [(config.topics.posts, b"site-09:u1", msgspec.json.encode(hand))])
    await run_until_committed([FilterWorker(config, core, metrics)], config, len(records) + 1)
    actions = await read_all(config.kafka.bootstrap_servers, [config.topics.actions])
    mine = [msgspec.json.decode(r.value or b"") for r in actions if r.key == b"site-09:u1"]
    assert [(a["action_id"], a["action"], a["post_id"]) for a in mine] == [
        (stable_id("action", "delete", "site-09", "hand-1"), "delete", "hand-1")]
    assert metrics.registry.get_sample_value(
        "mimamori_outputs_total", {"service": "filter", "topic": config.topics.actions}) == len(
        want[config.topics.actions]) + 1


async def test_bad_records_go_to_the_dlq_and_the_worker_keeps_going(
    broker: EmbeddedBroker,
) -> None:
    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config)
    bad = malformed_records("site-01")
    good = [Post(f"good-{i}", "site-01", "baduser", "しね", "2026-11-23T10:00:00Z")
            for i in range(len(bad))]
    # Every bad record is followed by a good one on the same key (so the same partition).
    interleaved: list[tuple[str, bytes | None, bytes]] = []
    for b, g in zip(bad, good, strict=True):
        interleaved.append((config.topics.posts, b.key, b.value))
        interleaved.append((config.topics.posts, b.key, msgspec.json.encode(g)))
    bad_report = (config.topics.reports, b"site-01:x", b'{"report_id": 1}')
    interleaved.append(bad_report)
    await produce(config.kafka.bootstrap_servers, interleaved)
    metrics = Metrics()
    core = build_core(config, metrics)
    await run_until_committed([FilterWorker(config, core, metrics)], config, len(interleaved))

    dlq: list[Record] = await read_all(config.kafka.bootstrap_servers,
                                       [config.topics.dlq(config.topics.posts)])
    by_value = {r.value: r for r in dlq}
    assert len(dlq) == len(bad)
    for b in bad:
        record = by_value[b.value]  # original bytes, unchanged
        headers = dict(record.headers)
        assert record.key == b.key
        assert headers["dlq.error.type"].decode() == b.kind
        assert headers["dlq.original.topic"].decode() == config.topics.posts
        assert int(headers["dlq.original.offset"]) >= 0
        assert headers["dlq.error.message"]
    report_dlq = await read_all(config.kafka.bootstrap_servers,
                                [config.topics.dlq(config.topics.reports)])
    assert [(r.value, dict(r.headers)["dlq.error.type"]) for r in report_dlq] == [
        (bad_report[2], b"schema")]
    actions = await read_all(config.kafka.bootstrap_servers, [config.topics.actions])
    assert sorted(msgspec.json.decode(r.value or b"")["post_id"] for r in actions) == sorted(
        p.post_id for p in good)


async def test_two_workers_split_partitions_and_match_one(broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers, max_batch_records=50)
    await ensure_topics(config)
    records = generate(800, seed=11, hit_ratio=0.3, report_ratio=0.05, malformed=False)
    core = build_core(config)
    metrics = [Metrics(), Metrics()]
    workers = [FilterWorker(config, core, m) for m in metrics]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (  # noqa: ASYNC110 - polls two workers
            all(w.assignment() for w in workers)
            and sum(len(w.assignment()) for w in workers) == 8
        ):
            await asyncio.sleep(0.1)
        first, second = (w.assignment() for w in workers)
        assert first
        assert second
        assert not first & second
        await produce_sample(config, records)
        done = await wait_committed(config.kafka.bootstrap_servers, config.kafka.group_id,
                                    [config.topics.posts, config.topics.reports],
                                    len(records), 60)
        assert done == len(records)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    for m in metrics:
        consumed = m.registry.get_sample_value(
            "mimamori_records_consumed_total", {"service": "filter", "topic": config.topics.posts})
        assert consumed is not None
        assert consumed > 0  # both members did real work
    got = await read_ids(config)
    want = expected_ids(core, config, records)
    for topic, ids in want.items():
        assert sorted(got[topic]) == sorted(ids), topic


async def test_sigkill_mid_stream_loses_nothing(broker: EmbeddedBroker, tmp_path: Path) -> None:
    config = fresh_config(broker.bootstrap_servers, max_batch_records=200)
    await ensure_topics(config)
    records = generate(20_000, seed=3, hit_ratio=0.4, report_ratio=0.02, malformed=False)
    await produce_sample(config, records)
    inputs = [config.topics.posts, config.topics.reports]
    bootstrap, group = config.kafka.bootstrap_servers, config.kafka.group_id

    worker = start_worker(config, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        done = 0
        while done < len(records) // 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            done = await committed_total(bootstrap, group, inputs)
        assert done < len(records), "the worker finished before it could be killed"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed_at = await committed_total(bootstrap, group, inputs)
        assert 0 < killed_at < len(records)
        assert await uncovered_commits(build_core(config), config) == []

        worker = start_worker(config, tmp_path / "worker.log")
        done = await wait_committed(bootstrap, group, inputs, len(records), 90)
        assert done == len(records), (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            assert worker.wait(30) == 0
        except subprocess.TimeoutExpired:
            worker.kill()
            raise

    got = await read_ids(config)
    want = expected_ids(build_core(config), config, records)
    duplicates = 0
    for topic, ids in want.items():
        assert set(got[topic]) == ids, topic  # nothing lost, nothing unexpected
        duplicates += len(got[topic]) - len(ids)
    print(f"SIGKILL at {killed_at}/{len(records)} committed; {duplicates} duplicate outputs")
