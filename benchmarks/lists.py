"""List size against memory, build time and hot reload.

    .venv/bin/python -m benchmarks.lists [--sizes 1000,10000,100000]

For each list size (the shipped lists plus synthetic entries, written as TSV files):

- load: parse, validate and normalize the files (`load_wordlists`);
- build: the default engine's automaton (`Matcher`), and the memory it adds;
- worker RSS: a real `python -m pipeline run` process with that list, after it joined the
  group on the embedded broker;
- hot reload: a worker's `Reloader` notices an edit (100 new entries), loads and builds the
  lists in its thread and swaps the new core in; with the worker idle, and while its judge
  path keeps running batches of 2,000 records on the event loop (then also with nothing
  cached, as at start-up). Reported: the reload's wall time, and the longest gap between two
  judged batches during it next to the usual gap, i.e. whether consumption paused.

Results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import itertools
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import msgspec

from benchmarks.common import (
    HIRAGANA,
    http_status,
    judge_throughput,
    machine,
    publish,
    record_batches,
    rss_bytes,
    tail,
    write_wordlist_dir,
)
from benchmarks.e2e import STREAM, bench_config, stop_all
from pipeline.config import Config
from pipeline.filter.reload import Reloader
from pipeline.filter.service import build_core, freeze_heap, install_core
from pipeline.filter.worker import FilterWorker
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker, free_port
from pipeline.telemetry.metrics import Metrics
from pipeline.text.matcher import Matcher
from pipeline.text.wordlists import WordlistLoader, load_wordlists
from pipeline.tools.sample import generate
from tests.processes import process_rss, spawn


def with_lists(config: Config, directory: Path) -> Config:
    return msgspec.structs.replace(config, wordlists=msgspec.structs.replace(
        config.wordlists, dir=str(directory)))


def add_entries(directory: Path, count: int, seed: int) -> None:
    """An operator's edit: `count` new watch entries appended to the synthetic list."""
    rng = random.Random(seed)
    lines = ["".join(rng.choice(HIRAGANA) for _ in range(8)) + "\twatch\tsynthetic\t"
             for _ in range(count)]
    path = directory / "synthetic.tsv"
    path.write_text(path.read_text(encoding="utf-8") + "\n".join(lines) + "\n",
                    encoding="utf-8")


class Reload(NamedTuple):
    seconds: float
    longest_gap_s: float
    usual_gap_s: float


async def timed_reload(config: Config, directory: Path, *, judging: bool, cold: bool,
                       seed: int) -> Reload:
    """Edit the lists and time the `Reloader` until the new core is in. With `judging`, the
    worker's judge path keeps running batches on the event loop meanwhile, and the gaps
    between judged batches show whether consumption paused. `cold` forgets what the last
    load parsed, so every line is parsed and normalized again, as at start-up."""
    metrics = Metrics()
    loader = WordlistLoader()  # as `mimamori run` keeps one for its load and its reloads
    build = functools.partial(build_core, loader=loader)
    worker = FilterWorker(config, build(config, metrics), metrics)
    freeze_heap()  # as `mimamori run` does after a load
    reloader = Reloader(config, metrics, build, functools.partial(install_core, worker))
    batches = record_batches(generate(20_000, **STREAM), config, 2_000)  # type: ignore[arg-type]
    judged: list[float] = []
    stop = asyncio.Event()

    async def judge() -> None:
        while not stop.is_set():
            for batch in batches:
                worker.judge(batch, worker.loop.dead_letters)
                judged.append(time.perf_counter())
                await asyncio.sleep(0)  # the worker awaits I/O between batches

    task = asyncio.create_task(judge()) if judging else None
    await asyncio.sleep(1.0)
    before = [b - a for a, b in itertools.pairwise(judged)]
    add_entries(directory, 100, seed)
    if cold:
        loader.forget()
    gc.collect()
    old = worker.core
    started = time.perf_counter()
    assert await reloader.check(), "the reloader did not see the change"
    ended = time.perf_counter()
    assert worker.core is not old
    await asyncio.sleep(0.5)
    stop.set()
    if task is None:
        return Reload(ended - started, 0.0, 0.0)
    await task
    during = [t for t in judged if started <= t <= ended + 0.5]
    gaps = [b - a for a, b in itertools.pairwise([started, *during])]
    return Reload(ended - started, max(gaps), statistics.median(before))


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


Row = tuple[int, float, float, int, int, Reload, Reload, Reload, float]


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
                started = time.perf_counter()  # a fresh loader: a load from nothing
                wordlist = load_wordlists(directory)
                load_s = time.perf_counter() - started
                before = rss_bytes()
                started = time.perf_counter()
                matcher = Matcher(wordlist, config.wordlists.engine)
                build_s = time.perf_counter() - started
                automaton = rss_bytes() - before
                del matcher
                rss = await worker_rss(config, Path(tmp) / f"worker-{size}.log")
                idle = await timed_reload(config, directory, judging=False, cold=False, seed=1)
                busy = await timed_reload(config, directory, judging=True, cold=False, seed=2)
                cold = await timed_reload(config, directory, judging=True, cold=True, seed=3)
                gc.collect()  # the reload tests' cores and batches
                metrics = Metrics()
                core_rate = judge_throughput(
                    FilterWorker(config, build_core(config, metrics), metrics),
                    record_batches(generate(20_000, **STREAM), config, 2_000),  # type: ignore[arg-type]
                    3)
                rows.append((len(wordlist.entries), load_s, build_s, automaton, rss, idle, busy,
                             cold, core_rate))
                print(f"{len(wordlist.entries):>7,} entries: load {load_s:.3f}s build "
                      f"{build_s:.3f}s automaton {automaton / 2**20:.1f} MiB worker RSS "
                      f"{rss / 2**20:.0f} MiB reload idle {idle.seconds:.3f}s, judging "
                      f"{busy.seconds:.3f}s (longest gap {busy.longest_gap_s * 1000:.0f} ms, "
                      f"usual {busy.usual_gap_s * 1000:.0f} ms), cold {cold.seconds:.3f}s "
                      f"(longest gap {cold.longest_gap_s * 1000:.0f} ms); core "
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
             "worker RSS (MiB) | reload, idle (s) | reload, judging (s) | longest / usual "
             "batch gap (ms) | cold reload, judging (s) | its longest gap (ms) | "
             "filter core (records/s) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for entries, load_s, build_s, automaton, rss, idle, busy, cold, rate in rows:
        table.append(f"| {entries:,} | {load_s:.3f} | {build_s:.3f} | "
                     f"{automaton / 2**20:.1f} | {rss / 2**20:.0f} | {idle.seconds:.3f} | "
                     f"{busy.seconds:.3f} | {busy.longest_gap_s * 1000:.0f} / "
                     f"{busy.usual_gap_s * 1000:.0f} | {cold.seconds:.3f} | "
                     f"{cold.longest_gap_s * 1000:.0f} | {rate:,.0f} |")
    body = (f"Command: `.venv/bin/python -m benchmarks.lists --sizes {args.sizes}`.\n\n"
            f"Machine: {machine()}.\n\nShipped lists plus synthetic entries written as TSV "
            "(`benchmarks/common.py`), default engine. Automaton memory is the RSS growth "
            "while building (approximate). Worker RSS is a real `mimamori run` process "
            "joined to a group on the embedded broker. A reload is the `Reloader` of a worker "
            "noticing an edit (100 new entries appended), loading and building the lists in "
            "its thread and swapping the new core in: once with the worker idle, once while "
            "its judge path runs batches of 2,000 records flat out on the event loop (the "
            "worst case: the reload thread shares the interpreter with it), and once that way "
            "with nothing kept from the last load (every line parsed and normalized again, "
            "as at start-up). The gap columns show whether consumption paused: a gap is one "
            "batch plus whatever the reload held the interpreter for.\n\n" + "\n".join(table))
    publish("List size: memory, build and hot reload", body, write=not args.no_write)


if __name__ == "__main__":
    main()
