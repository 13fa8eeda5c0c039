"""List size against memory, build time and hot reload.

    .venv/bin/python -m benchmarks.lists [--sizes 1000,10000,100000]

For each list size (the shipped lists plus synthetic entries, written as TSV files):

- load: parse, validate and normalize the files (`load_wordlists`);
- build: the default engine's automaton (`Matcher`), and the memory it adds;
- worker RSS: a real `python -m pipeline run` process with that list, after it joined the
  group on the embedded broker;
- hot reload: a worker's `Reloader` notices a changed file, loads and builds the new list in
  its thread and swaps it in, while the worker's judge path keeps running batches of 2,000
  records on the event loop. Reported: the reload's wall time, and the longest gap between
  two judged batches during it next to the usual gap, i.e. whether consumption paused.

Results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import msgspec

from benchmarks.common import (
    http_status,
    judge_throughput,
    machine,
    record_batches,
    rss_bytes,
    tail,
    write_section,
    write_wordlist_dir,
)
from benchmarks.e2e import STREAM, bench_config, stop_all
from pipeline.app import build_core
from pipeline.broker import EmbeddedBroker, ensure_topics, free_port
from pipeline.config import Config
from pipeline.matcher import Matcher
from pipeline.metrics import Metrics
from pipeline.reload import Reloader
from pipeline.sample import generate
from pipeline.wordlists import load_wordlists
from pipeline.worker import FilterWorker
from tests.processes import process_rss, spawn


def with_lists(config: Config, directory: Path) -> Config:
    return msgspec.structs.replace(config, wordlists=msgspec.structs.replace(
        config.wordlists, dir=str(directory)))


async def reload_while_judging(config: Config, directory: Path) -> tuple[float, float, float]:
    """Reload wall time, longest gap between judged batches during it, median gap before."""
    metrics = Metrics()
    worker = FilterWorker(config, build_core(config, metrics), metrics)
    reloader = Reloader(config, metrics, build_core, worker.set_core)
    batches = record_batches(generate(20_000, **STREAM), config, 2_000)  # type: ignore[arg-type]
    judged: list[float] = []
    stop = asyncio.Event()

    async def judge() -> None:
        while not stop.is_set():
            for batch in batches:
                worker._judge(batch)
                judged.append(time.perf_counter())
                await asyncio.sleep(0)  # the worker awaits I/O between batches

    task = asyncio.create_task(judge())
    await asyncio.sleep(1.0)
    before = [b - a for a, b in itertools.pairwise(judged)]
    path = directory / "synthetic.tsv"
    path.write_text(path.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    old = worker.core
    started = time.perf_counter()
    assert await reloader.check(), "the reloader did not see the change"
    ended = time.perf_counter()
    assert worker.core is not old
    await asyncio.sleep(0.5)
    stop.set()
    await task
    during = [t for t in judged if started <= t <= ended + 0.5]
    marks = [started, *during]
    gaps = [b - a for a, b in itertools.pairwise(marks)]
    return ended - started, max(gaps), statistics.median(before)


async def worker_rss(config: Config, log: Path) -> int:
    """RSS of a `mimamori run` process once it is ready and has joined the group."""
    port = free_port("127.0.0.1")
    config = msgspec.structs.replace(config, metrics=msgspec.structs.replace(
        config.metrics, port=port))
    proc = spawn(["pipeline", "run", "--log-level", "WARNING"], config, log)
    try:
        deadline = time.monotonic() + 120
        while http_status(f"http://127.0.0.1:{port}/ready") != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not become ready:\n{tail(log)}")
            await asyncio.sleep(0.2)
        await asyncio.sleep(6)  # group join and first empty fetches
        return process_rss(proc.pid)
    finally:
        stop_all([proc])


Row = tuple[int, float, float, int, int, float, float, float, float]


async def run(sizes: list[int]) -> list[Row]:
    broker = EmbeddedBroker(startup_timeout_s=30)
    await broker.start()
    rows: list[Row] = []
    try:
        base = bench_config(broker.bootstrap_servers, 8)
        await ensure_topics(base)
        with tempfile.TemporaryDirectory() as tmp:
            for size in sizes:
                directory = write_wordlist_dir(size, Path(tmp) / str(size))
                config = with_lists(base, directory)
                gc.collect()
                started = time.perf_counter()
                wordlist = load_wordlists(directory)
                load_s = time.perf_counter() - started
                before = rss_bytes()
                started = time.perf_counter()
                matcher = Matcher(wordlist, config.wordlists.engine)
                build_s = time.perf_counter() - started
                automaton = rss_bytes() - before
                del matcher
                rss = await worker_rss(config, Path(tmp) / f"worker-{size}.log")
                reload_s, longest_gap, usual_gap = await reload_while_judging(config, directory)
                metrics = Metrics()
                core_rate = judge_throughput(
                    FilterWorker(config, build_core(config, metrics), metrics),
                    record_batches(generate(20_000, **STREAM), config, 2_000),  # type: ignore[arg-type]
                    3)
                rows.append((len(wordlist.entries), load_s, build_s, automaton, rss, reload_s,
                             longest_gap, usual_gap, core_rate))
                print(f"{len(wordlist.entries):>7,} entries: load {load_s:.3f}s build "
                      f"{build_s:.3f}s automaton {automaton / 2**20:.1f} MiB worker RSS "
                      f"{rss / 2**20:.0f} MiB reload {reload_s:.3f}s longest gap "
                      f"{longest_gap * 1000:.0f} ms (usual {usual_gap * 1000:.0f} ms) core "
                      f"{core_rate:,.0f} records/s", flush=True)
    finally:
        broker.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    rows = asyncio.run(run([int(s) for s in args.sizes.split(",")]))
    table = ["| entries | load + normalize (s) | automaton build (s) | automaton memory (MiB) | "
             "worker RSS (MiB) | hot reload (s) | longest batch gap during reload (ms) | "
             "usual gap (ms) | filter core (records/s) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for entries, load_s, build_s, automaton, rss, reload_s, gap, usual, rate in rows:
        table.append(f"| {entries:,} | {load_s:.3f} | {build_s:.3f} | "
                     f"{automaton / 2**20:.1f} | {rss / 2**20:.0f} | {reload_s:.3f} | "
                     f"{gap * 1000:.0f} | {usual * 1000:.0f} | {rate:,.0f} |")
    body = (f"Command: `.venv/bin/python -m benchmarks.lists --sizes {args.sizes}`.\n\n"
            f"Machine: {machine()}.\n\nShipped lists plus synthetic entries written as TSV "
            "(`benchmarks/common.py`), default engine. Automaton memory is the RSS growth "
            "while building (approximate). Worker RSS is a real `mimamori run` process "
            "joined to a group on the embedded broker. Hot reload is the `Reloader` of a "
            "worker loading and building the changed list in its thread and swapping it in "
            "while the judge path runs batches of 2,000 records on the event loop; the gap "
            "columns show whether that paused consumption (a gap is one batch plus whatever "
            "the reload held the interpreter for).\n\n" + "\n".join(table))
    print(body)
    if not args.no_write:
        write_section("List size: memory, build and hot reload", body)


if __name__ == "__main__":
    main()
