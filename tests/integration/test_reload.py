"""Hot reload in a running worker, and dry runs over a topic's offset range."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from pipeline.config import Config
from pipeline.contract.messages import Post
from pipeline.filter.reload import Reloader
from pipeline.filter.service import build_core
from pipeline.filter.worker import FilterWorker
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.kafka.topicio import iter_range, produce, read_all, wait_committed
from pipeline.telemetry.metrics import Metrics
from tests.integration.conftest import ROOT, fresh_config

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _posts(config: Config, first: int, text: str, n: int = 5) -> list[tuple[str, bytes, bytes]]:
    return [(config.topics.posts, b"site-01:u1",
             msgspec.json.encode(Post(f"p{i}", "site-01", "u1", text, "2026-11-23T10:00:00Z")))
            for i in range(first, first + n)]


async def _actions_by_post(config: Config) -> dict[str, str]:
    records = await read_all(config.kafka.bootstrap_servers, [config.topics.actions])
    out = {}
    for r in records:
        action = msgspec.json.decode(r.value or b"")
        out[action["post_id"]] = action["wordlist_version"]
    return out


async def _wait_for(metrics: Metrics, result: str, count: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = metrics.registry.get_sample_value(
            "mimamori_wordlist_reloads_total", {"result": result}) or 0
        if value >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {result} reload within {timeout_s}s")


async def test_hot_reload_swaps_lists_without_dropping_records(
    broker: EmbeddedBroker, tmp_path: Path,
) -> None:
    lists = tmp_path / "lists"
    shutil.copytree(ROOT / "wordlists", lists)
    base = fresh_config(broker.bootstrap_servers)
    config = msgspec.structs.replace(base, wordlists=msgspec.structs.replace(
        base.wordlists, dir=str(lists), reload_interval_ms=100))
    await ensure_topics(config)
    metrics = Metrics()
    core = build_core(config, metrics)
    first_version = core.version
    worker = FilterWorker(config, core, metrics)
    reloader = Reloader(config, metrics, build_core, worker.set_core)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)), asyncio.create_task(reloader.run(stop))]
    inputs = [config.topics.posts, config.topics.reports]
    bootstrap, group = config.kafka.bootstrap_servers, config.kafka.group_id
    try:
        # 1. "ぴよぴよ" is not in the lists: no action.
        await produce(bootstrap, _posts(config, 0, "ぴよぴよ"))
        assert await wait_committed(bootstrap, group, inputs, 5, 60) == 5

        # 2. Add it as NG while the worker runs: the next posts are acted on, stamped with the
        #    new version, and nothing before or after is dropped.
        with (lists / "ja.tsv").open("a", encoding="utf-8") as fh:
            fh.write("ぴよぴよ\tng\tabuse\t\ttest entry\n")  # term mode category context note
        await _wait_for(metrics, "ok", 1)
        second_version = worker.core.version
        assert metrics.registry.get_sample_value(
            "mimamori_wordlist_reload_failed_timestamp_seconds") == 0
        assert second_version != first_version
        await produce(bootstrap, _posts(config, 5, "ぴよぴよ"))
        assert await wait_committed(bootstrap, group, inputs, 10, 60) == 10

        # 3. A broken list is reported and the loaded one kept.
        with (lists / "ja.tsv").open("a", encoding="utf-8") as fh:
            fh.write("broken\tnot-a-mode\tabuse\n")
        await _wait_for(metrics, "error", 1)
        assert worker.core.version == second_version
        # The failure is newer than the last good load: what the reload alert compares.
        failed_at = metrics.registry.get_sample_value(
            "mimamori_wordlist_reload_failed_timestamp_seconds")
        loaded_at = metrics.registry.get_sample_value(
            "mimamori_wordlist_loaded_timestamp_seconds")
        assert failed_at is not None
        assert loaded_at is not None
        assert failed_at > loaded_at
        await produce(bootstrap, _posts(config, 10, "ぴよぴよ"))
        assert await wait_committed(bootstrap, group, inputs, 15, 60) == 15
    finally:
        stop.set()
        await asyncio.gather(*tasks)

    actions = await _actions_by_post(config)
    assert sorted(actions) == sorted(f"p{i}" for i in range(5, 15))
    assert set(actions.values()) == {second_version}
    assert metrics.registry.get_sample_value(
        "mimamori_wordlist_info", {"version": second_version}) == 1


async def test_dry_run_over_a_topic_offset_range(broker: EmbeddedBroker, tmp_path: Path) -> None:
    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config)
    candidate = tmp_path / "candidate"
    shutil.copytree(ROOT / "wordlists", candidate)
    with (candidate / "ja.tsv").open("a", encoding="utf-8") as fh:
        fh.write("ぴよぴよ\tng\tabuse\n")
    # One partition (same key), offsets 0-9: ぴよぴよ at 0-4, しね at 5-9.
    await produce(config.kafka.bootstrap_servers,
                  _posts(config, 0, "ぴよぴよ") + _posts(config, 5, "しね"))
    records = await read_all(config.kafka.bootstrap_servers, [config.topics.posts])
    [partition] = {r.partition for r in records}
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "pipeline", "dry-run", "--wordlists", str(ROOT / "wordlists"),
         "--candidate", str(candidate), "--bootstrap-servers", config.kafka.bootstrap_servers,
         "--topic", config.topics.posts, "--from-offset", "2", "--to-offset", "7",
         "--partition", str(partition)],
        # Two records a batch: the range is pulled and judged in three chunks.
        env=os.environ | {"MIMAMORI_WORKER_MAX_BATCH_RECORDS": "2"},
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    changed = [json.loads(line)["post_id"] for line in result.stdout.splitlines()]
    assert changed == ["p2", "p3", "p4"]
    assert "5 posts judged, 0 invalid lines skipped, 3 judged differently" in result.stderr


async def test_a_topic_offset_range_is_read_a_chunk_at_a_time(broker: EmbeddedBroker) -> None:
    # The dry run over a topic holds one chunk, not the range: iter_range yields at most
    # chunk_records records at a time, every offset of the range once and in order.
    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config, [config.topics.posts])
    await produce(config.kafka.bootstrap_servers, _posts(config, 0, "やあ", n=45))
    connection = {"bootstrap_servers": config.kafka.bootstrap_servers}
    chunks = [chunk async for chunk in iter_range(connection, [config.topics.posts], 3, 40,
                                                  chunk_records=10)]
    assert max(map(len, chunks)) <= 10
    read = [r for chunk in chunks for r in chunk]
    assert [r.offset for r in read] == list(range(3, 40))
    assert [msgspec.json.decode(r.value or b"")["post_id"] for r in read] == [
        f"p{i}" for i in range(3, 40)]
