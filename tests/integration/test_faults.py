"""The fault suite: what mimamori survives on a real broker, and that it loses nothing.

Every test checks by stable id that each input yields its outputs, and most check the
at-least-once invariant directly: every input below a committed offset already has all of its
outputs. Each prints a row of the fault table (the README shows a run of it).

CI runs the short mode. `MIMAMORI_SOAK=1 ./scripts/test.sh -m fault -s` runs the soak mode:
more kill rounds and larger streams.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import msgspec
import pytest

from pipeline.config import Config
from pipeline.filter.service import build_core
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker, free_port
from pipeline.kafka.topicio import committed_total, wait_committed
from pipeline.tools.sample import generate
from tests.integration.conftest import fresh_config, start_worker
from tests.integration.helpers import (
    expected_ids,
    http_get,
    metric,
    produce_sample,
    read_ids,
    uncovered_commits,
)
from tests.processes import cpu_seconds, process_rss

SOAK = os.environ.get("MIMAMORI_SOAK", "") not in ("", "0")

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.asyncio,
              pytest.mark.timeout(1800 if SOAK else 300)]
KILL_ROUNDS = 25 if SOAK else 4
STREAM = 60_000 if SOAK else 12_000


def report(fault: str, rounds: int, records: int, lost: int, duplicates: int,
           recovery: str) -> None:
    """One row of the fault table, printed for `-s` runs and the README."""
    print(f"\nFAULT | {fault} | {rounds} | {records:,} | {lost} | {duplicates} | {recovery} |")


async def check_outputs(config: Config, records: list[object]) -> tuple[int, int]:
    """(lost, duplicates) over every output topic, by stable id."""
    got = await read_ids(config)
    want = expected_ids(build_core(config), config, records)  # type: ignore[arg-type]
    lost = duplicates = 0
    for topic, ids in want.items():
        lost += len(ids - set(got[topic]))
        assert set(got[topic]) <= ids, f"unexpected outputs on {topic}"
        duplicates += len(got[topic]) - len(set(got[topic]))
    return lost, duplicates


async def drain_and_check(config: Config, records: list[object], log: Path,
                          url: str) -> tuple[int, int]:
    """Start a worker, wait until it is ready, let it commit every record, stop it cleanly,
    and check the outputs by stable id; returns (lost, duplicates), lost asserted 0."""
    worker = start_worker(config, log)
    await wait_until(lambda: http_get(f"{url}/ready")[0] == 200, 60, "the last worker")
    try:
        assert await wait_committed(
            config.kafka.bootstrap_servers, config.kafka.group_id,
            [config.topics.posts, config.topics.reports], len(records), 120) == len(records)
    finally:
        assert stop_worker(worker) == 0
    lost, duplicates = await check_outputs(config, records)
    assert lost == 0
    return lost, duplicates


def with_metrics_port(config: Config) -> tuple[Config, str]:
    port = free_port()
    config = msgspec.structs.replace(
        config, metrics=msgspec.structs.replace(config.metrics, port=port),
        worker=msgspec.structs.replace(config.worker, health_check_interval_ms=500))
    return config, f"http://127.0.0.1:{port}"


async def wait_until(predicate: object, timeout_s: float, what: str) -> float:
    """Poll `predicate()` until true; returns the seconds it took."""
    assert callable(predicate)
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def stop_worker(worker: subprocess.Popen[bytes], timeout_s: float = 40) -> int:
    worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(timeout_s)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise


async def test_kill9_at_random_moments(broker: EmbeddedBroker, tmp_path: Path) -> None:
    # Small batches: many commits, so the kills land between and inside batches.
    config, url = with_metrics_port(fresh_config(broker.bootstrap_servers,
                                                 max_batch_records=20))
    await ensure_topics(config)
    records = generate(STREAM * 2, seed=17, hit_ratio=0.3, report_ratio=0.02,
                       malformed=False)
    await produce_sample(config, records)
    core = build_core(config)
    inputs = [config.topics.posts, config.topics.reports]
    bootstrap, group = config.kafka.bootstrap_servers, config.kafka.group_id
    rng = random.Random(2026)
    recoveries: list[float] = []
    killed_at: list[int] = []
    log = tmp_path / "worker.log"
    for _ in range(KILL_ROUNDS):
        before = await committed_total(bootstrap, group, inputs)
        if before >= len(records):
            break
        worker = start_worker(config, log)
        started = time.monotonic()

        async def progressed(floor: int = before) -> bool:
            return await committed_total(bootstrap, group, inputs) > floor

        await wait_until(progressed, 60, "the restarted worker to commit")
        recoveries.append(time.monotonic() - started)
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed_at.append(await committed_total(bootstrap, group, inputs))
        assert await uncovered_commits(core, config) == [], "a commit ran ahead of its outputs"
    lost, duplicates = await drain_and_check(config, records, log, url)  # type: ignore[arg-type]
    mid_stream = sum(1 for n in killed_at if n < len(records))
    assert mid_stream >= 2, f"kills should land mid-stream, got {killed_at}"
    report("kill -9 a worker at random moments, restart", mid_stream, len(records), lost,
           duplicates, f"first commit {max(recoveries):.1f}s after restart (max)")


async def test_sigterm_under_load_drains_and_commits(broker: EmbeddedBroker,
                                                     tmp_path: Path) -> None:
    config, url = with_metrics_port(fresh_config(broker.bootstrap_servers,
                                                 max_batch_records=500))
    await ensure_topics(config)
    records = generate(STREAM, seed=23, hit_ratio=0.3, report_ratio=0.02, malformed=False)
    await produce_sample(config, records)
    inputs = [config.topics.posts, config.topics.reports]
    bootstrap, group = config.kafka.bootstrap_servers, config.kafka.group_id
    worker = start_worker(config, tmp_path / "worker.log")

    async def busy() -> bool:
        return await committed_total(bootstrap, group, inputs) > 0

    await wait_until(busy, 60, "the worker to start committing")
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(config.worker.shutdown_timeout_ms / 1000 + 10) == 0
    drained_s = time.monotonic() - started
    assert await uncovered_commits(build_core(config), config) == []
    lost, duplicates = await drain_and_check(config, records,  # type: ignore[arg-type]
                                             tmp_path / "worker.log", url)
    report("SIGTERM under load", 1, len(records), lost, duplicates,
           f"drained, committed and exited in {drained_s:.1f}s")


async def test_rebalance_while_the_stream_flows(broker: EmbeddedBroker, tmp_path: Path) -> None:
    config = fresh_config(broker.bootstrap_servers, max_batch_records=200)
    await ensure_topics(config)
    records = generate(STREAM, seed=29, hit_ratio=0.3, report_ratio=0.02, malformed=False)
    inputs = [config.topics.posts, config.topics.reports]
    bootstrap, group = config.kafka.bootstrap_servers, config.kafka.group_id
    log = tmp_path / "worker.log"
    chunks = [records[i:i + len(records) // 8] for i in range(0, len(records), len(records) // 8)]

    async def feed() -> None:
        for chunk in chunks:
            await produce_sample(config, chunk)
            await asyncio.sleep(1.0)

    feeder = asyncio.create_task(feed())
    first = start_worker(config, log)
    await asyncio.sleep(3)
    second = start_worker(config, log)  # joins: partitions move while records flow
    await asyncio.sleep(4)
    assert stop_worker(first) == 0  # leaves cleanly: its partitions move again
    third = start_worker(config, log)
    await feeder
    try:
        assert await wait_committed(bootstrap, group, inputs, len(records), 120) == len(records)
    finally:
        assert stop_worker(second) == 0
        assert stop_worker(third) == 0
    assert await uncovered_commits(build_core(config), config) == []
    lost, duplicates = await check_outputs(config, records)  # type: ignore[arg-type]
    assert lost == 0
    report("rebalance under load (join, leave, join)", 3, len(records), lost, duplicates,
           "no pause beyond the group's rejoin")


async def test_broker_paused_then_resumed(tmp_path: Path) -> None:
    """The broker stops answering (SIGSTOP) and comes back (SIGCONT) with its data."""
    own = EmbeddedBroker(startup_timeout_s=30)
    await own.start()
    try:
        config, url = with_metrics_port(fresh_config(own.bootstrap_servers,
                                                     max_batch_records=500))
        await ensure_topics(config)
        records = generate(STREAM, seed=31, hit_ratio=0.3, report_ratio=0.02, malformed=False)
        await produce_sample(config, records)
        inputs = [config.topics.posts, config.topics.reports]
        bootstrap, group = config.kafka.bootstrap_servers, config.kafka.group_id
        log = tmp_path / "worker.log"
        worker = start_worker(config, log)
        assert own.process is not None

        async def committing() -> bool:
            return await committed_total(bootstrap, group, inputs) > 0

        await wait_until(committing, 60, "the worker to commit")
        rss_before = process_rss(worker.pid)
        own.process.send_signal(signal.SIGSTOP)
        lines_before = len(log.read_text().splitlines())
        await wait_until(lambda: http_get(f"{url}/ready")[0] == 503, 60, "/ready to say 503")
        assert metric(f"{url}/metrics", 'mimamori_broker_connected{service="filter"}') == 0
        await asyncio.sleep(5)  # stay down a while: the worker must wait, not spin
        cpu = cpu_seconds(worker.pid)
        await asyncio.sleep(5)
        cpu_while_down = cpu_seconds(worker.pid) - cpu
        rss_growth = process_rss(worker.pid) - rss_before
        down_lines = log.read_text().splitlines()[lines_before:]
        own.process.send_signal(signal.SIGCONT)
        recovered = await wait_until(lambda: http_get(f"{url}/ready")[0] == 200, 90,
                                     "/ready to say 200 again")
        try:
            assert await wait_committed(bootstrap, group, inputs, len(records), 120) == len(
                records)
        finally:
            assert stop_worker(worker) == 0
        assert worker.returncode == 0
        assert any("broker unreachable" in line for line in down_lines)
        assert len(down_lines) < 100, "the outage flooded the log"
        assert rss_growth < 64 * 2**20, "memory grew while outputs could not be acknowledged"
        assert await uncovered_commits(build_core(config), config) == []
        lost, duplicates = await check_outputs(config, records)  # type: ignore[arg-type]
        assert lost == 0
        report("broker stops answering (SIGSTOP) and resumes", 1, len(records), lost,
               duplicates, f"/ready 200 {recovered:.1f}s after resume; while down "
               f"{cpu_while_down:.2f} CPU-s per 5 s, {len(down_lines)} log lines, "
               f"RSS {rss_growth / 2**20:+.1f} MiB")
    finally:
        if own.process is not None:
            own.process.send_signal(signal.SIGCONT)
        own.stop()


async def test_broker_restarted_empty(tmp_path: Path) -> None:
    """The broker dies and a new one comes up on the same address. The embedded broker keeps
    nothing across a restart (memory storage), so nothing can be lost; the worker must survive,
    report the outage, rejoin and filter what is produced after the restart."""
    own = EmbeddedBroker(startup_timeout_s=30)
    await own.start()
    worker = None
    try:
        config, url = with_metrics_port(fresh_config(own.bootstrap_servers))
        await ensure_topics(config)
        first = generate(2_000, seed=37, hit_ratio=0.3, malformed=False)
        await produce_sample(config, first)
        inputs = [config.topics.posts, config.topics.reports]
        bootstrap, group = config.kafka.bootstrap_servers, config.kafka.group_id
        worker = start_worker(config, tmp_path / "worker.log")
        assert await wait_committed(bootstrap, group, inputs, len(first), 60) == len(first)
        assert own.process is not None
        own.process.kill()
        own.process.wait()
        await wait_until(lambda: http_get(f"{url}/ready")[0] == 503, 60, "/ready to say 503")
        await asyncio.sleep(3)
        assert worker.poll() is None, "the worker died with the broker"
        restarted = time.monotonic()
        await own.start()
        await ensure_topics(config)
        second = generate(2_000, seed=41, hit_ratio=0.3, malformed=False)
        await produce_sample(config, second)
        assert await wait_committed(bootstrap, group, inputs, len(second), 90) == len(second)
        recovered = time.monotonic() - restarted
        assert http_get(f"{url}/ready")[0] == 200
        assert stop_worker(worker) == 0
        lost, duplicates = await check_outputs(config, second)  # type: ignore[arg-type]
        assert lost == 0
        report("broker killed, restarted empty on the same address", 1, len(second), lost,
               duplicates, f"worker kept running; new posts filtered {recovered:.1f}s after "
               "the restart")
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
        own.stop()
