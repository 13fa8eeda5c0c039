"""Raids and dense lists: the filter when every post hits, next to the ordinary stream.

    .venv/bin/python -m benchmarks.raid [--posts 200000] [--processes 2,1] [--profile]
        [--core-posts 20000] [--runs 5] [--core-only]

Three streams of posts (no reports), each produced ahead to its own topics of one embedded
broker:

- clean: the usual mix (`generate(hit_ratio=0.03, tricky_ratio=0.02)`: about 5% of posts with
  a hit of any kind, a few tricky clean ones);
- ng raid: every post has a surviving NG hit (a spam raid, a harassment pile-on);
- watch raid: every post has a watch hit and no NG one (watch terms, contact details).

The raid streams are `generate(hit_ratio=1.0)` posts kept by their verdict under the shipped
lists. For each process count the filter (`python -m pipeline run`) drains each stream with a
fresh consumer group, measured as in `benchmarks/e2e.py` (committed records per second from the
first commit seen to the last; CPU seconds of the workers and the broker over that interval).
With `--profile` (py-spy, `scripts/setup.sh bench`) one worker of the first ng-raid run is
sampled.

In-process, on one core, for the same streams (best of `--runs` interleaved rounds):
`FilterWorker.judge` records per second and outputs per record; the hit-resolution cost
(`FilterCore.hits_batch` minus the same call with resolution stubbed out, per post); and the
clean stream judged with 10,000-term lists, realistic against dense
(`common.synthetic_wordlist`). `--core-only` skips the broker. Results go to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import (
    ROOT,
    Batch,
    judge_throughput,
    machine,
    machine_load,
    produce_all,
    publish,
    record_batches,
    synthetic_wordlist,
)
from benchmarks.e2e import Run, _frame_name, bench_config, drain, hottest, with_group
from pipeline.config import Config
from pipeline.contract.messages import decode_post
from pipeline.filter.judge import FilterCore
from pipeline.filter.policy import verdict_of
from pipeline.filter.service import freeze_heap
from pipeline.filter.worker import FilterWorker
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.telemetry.metrics import Metrics
from pipeline.text.matcher import Matcher
from pipeline.text.wordlists import Wordlist, load_wordlists
from pipeline.tools.sample import SampleRecord, generate

STREAMS = ("clean", "ng-raid", "watch-raid")
_COMMON: dict[str, Any] = {"report_ratio": 0.0, "malformed": False}
#: The functions whose share of a worker's samples the profile account reports (total: the
#: function and everything it calls).
ACCOUNT = {
    "judge: decode, hits, outcomes (FilterWorker.judge)": ("judge", "pipeline/filter/worker.py"),
    "hits of the batch (FilterCore.hits_batch)": ("hits_batch", "pipeline/filter/judge.py"),
    "views of the batch (views_batch)": ("views_batch", "pipeline/text/normalize.py"),
    "hit resolution (FilterCore._resolve)": ("_resolve", "pipeline/filter/judge.py"),
    "tracked views (track)": ("track", "pipeline/text/normalize.py"),
    "outcomes: messages built (FilterCore.process_post)":
        ("process_post", "pipeline/filter/judge.py"),
    "outputs encoded (FilterWorker._output)": ("_output", "pipeline/filter/worker.py"),
    "decoding posts (decode_post)": ("decode_post", "pipeline/contract/messages.py"),
    "producing outputs, waiting for acks (ProcessingLoop._produce)":
        ("_produce", "pipeline/kafka/loop.py"),
    "fetching records (AIOKafkaConsumer.getmany)": ("getmany", "aiokafka/consumer/consumer.py"),
    "committing offsets (ProcessingLoop._commit)": ("_commit", "pipeline/kafka/loop.py"),
}


def streams(n_posts: int, seed: int = 42) -> dict[str, list[SampleRecord]]:
    """The three streams of `n_posts` posts each."""
    clean = generate(n_posts, seed=seed, hit_ratio=0.03, tricky_ratio=0.02, **_COMMON)
    core = FilterCore(Matcher(load_wordlists(ROOT / "wordlists")), Config())
    # About 37% of hit posts are NG and half watch: draw enough, keep by verdict.
    hot = generate(3 * n_posts + 1000, seed=seed + 1, hit_ratio=1.0, tricky_ratio=0.0,
                   **_COMMON)
    verdicts: dict[tuple[str, str], str] = {}
    raids: dict[str, list[SampleRecord]] = {"ng": [], "review": []}
    for record in hot:
        post = decode_post(record.value, max_bytes=1 << 20, max_text_chars=1 << 20)
        key = (post.text, post.site_id)
        if key not in verdicts:
            verdicts[key] = verdict_of(core.hits(post.text, post.site_id))
        kept = raids.get(verdicts[key])
        if kept is not None and len(kept) < n_posts:
            kept.append(record)
    if min(map(len, raids.values())) < n_posts:
        raise SystemExit("the hit stream held too few posts of each verdict")
    return {"clean": clean, "ng-raid": raids["ng"], "watch-raid": raids["review"]}


async def end_to_end(args: argparse.Namespace, data: dict[str, list[SampleRecord]]
                     ) -> dict[tuple[str, int], tuple[Run, str]]:
    """Each stream drained by the filter with each process count, `--rounds` times (a fresh
    consumer group each time); the best run of each, with the machine's load after it."""
    broker = EmbeddedBroker(startup_timeout_s=30)
    await broker.start()
    assert broker.process is not None
    best: dict[tuple[str, int], tuple[Run, str]] = {}
    try:
        configs = {}
        for name in args.streams:
            config = bench_config(broker.bootstrap_servers, args.partitions)
            await ensure_topics(config)
            started = time.monotonic()
            await produce_all(config.kafka.bootstrap_servers,
                              ((config.topics.posts, r.key, r.value) for r in data[name]))
            print(f"{name}: produced {len(data[name]):,} posts ahead in "
                  f"{time.monotonic() - started:.1f}s", flush=True)
            configs[name] = config
        profiled = False
        for round_ in range(args.rounds):
            for n in args.processes:
                for name, config in configs.items():
                    group = with_group(config, f"{config.topics.posts}.filter-{n}-{round_}")
                    profile = None
                    if args.profile and not profiled and name == "ng-raid":
                        profile, profiled = args.profile_file, True
                    result = await drain(group, len(data[name]), "filter",
                                         ["pipeline", "run", "--log-level", "WARNING"], n,
                                         broker.process.pid, args.workdir, profile)
                    load = machine_load()
                    print(f"{name:<10} {n} process(es): {result.rate:>9,.0f} posts/s "
                          f"({result.records:,} in {result.seconds:.1f}s; CPU-s workers "
                          f"{result.worker_cpu_s:.1f}, broker {result.broker_cpu_s:.1f}; "
                          f"load {load})", flush=True)
                    if (name, n) not in best or result.rate > best[name, n][0].rate:
                        best[name, n] = (result, load)
    finally:
        broker.stop()
    return best


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _hits_all(core: FilterCore, texts: list[str], sites: list[str | None]) -> None:
    for start in range(0, len(texts), 2_000):
        core.hits_batch(texts[start:start + 2_000], sites[start:start + 2_000])


class CoreResult:
    """In-process measurements of one stream (best of the rounds)."""

    def __init__(self, records: list[SampleRecord], config: Config, core: FilterCore) -> None:
        self.batches: list[Batch] = record_batches(records, config, 2_000)
        self.worker = FilterWorker(config, core, Metrics())
        posts = [decode_post(r.value, max_bytes=1 << 20, max_text_chars=1 << 20)
                 for r in records]
        self.texts = [p.text for p in posts]
        self.sites: list[str | None] = [p.site_id for p in posts]
        self.core = core
        dlq = self.worker.loop.dead_letters
        self.outputs = sum(len(self.worker.judge(b, dlq).outputs) for b in self.batches)
        self.flagged = sum(1 for hits in core.hits_batch(self.texts, self.sites) if hits)
        self.resolved = self._count_resolved()
        self.rate = 0.0
        self.hits_s = float("inf")
        self.bare_s = float("inf")

    def _count_resolved(self) -> int:
        """How many posts take the resolution path (a candidate, or a detector trigger)."""
        calls = 0
        resolve = self.core._resolve

        def counted(*args: Any) -> Any:
            nonlocal calls
            calls += 1
            return resolve(*args)

        self.core._resolve = counted  # type: ignore[method-assign,assignment]
        try:
            _hits_all(self.core, self.texts, self.sites)
        finally:
            del self.core._resolve
        return calls

    def round(self, resolution: bool) -> None:
        """One timing of each measure; keeps the best."""
        self.rate = max(self.rate, judge_throughput(self.worker, self.batches, 1))
        if not resolution:
            return
        self.hits_s = min(self.hits_s, _timed(lambda: _hits_all(self.core, self.texts,
                                                                self.sites)))
        # The same call with resolution stubbed out: views, candidates, detectors only.
        self.core._resolve = lambda *_: []  # type: ignore[method-assign]
        try:
            self.bare_s = min(self.bare_s, _timed(lambda: _hits_all(self.core, self.texts,
                                                                    self.sites)))
        finally:
            del self.core._resolve

    @property
    def resolution_us(self) -> float:
        """Hit resolution, µs per resolved post."""
        return (self.hits_s - self.bare_s) / max(self.resolved, 1) * 1e6


def core_only(args: argparse.Namespace, data: dict[str, list[SampleRecord]]
              ) -> tuple[dict[str, CoreResult], dict[str, CoreResult]]:
    """Judge rates of the three streams (shipped lists) and of the clean stream with the
    realistic and the dense 10,000-term lists; interleaved rounds, each keeping its best."""
    config = Config()

    def core_of(wordlist: Wordlist) -> FilterCore:
        return FilterCore(Matcher(wordlist), config)

    shipped = core_of(load_wordlists(ROOT / "wordlists"))
    sample = {name: records[:args.core_posts] for name, records in data.items()}
    by_stream = {name: CoreResult(records, config, shipped) for name, records in sample.items()}
    by_list = {kind: CoreResult(sample["clean"], config,
                                core_of(synthetic_wordlist(10_000, dense=kind == "dense")))
               for kind in ("realistic", "dense")}
    freeze_heap()
    for _ in range(args.runs):
        for result in by_stream.values():
            result.round(resolution=True)
        for result in by_list.values():
            result.round(resolution=True)
    return by_stream, by_list


def account(profile: Path) -> list[tuple[str, float]]:
    """Share of samples in which each function of `ACCOUNT` is on the stack."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    samples = 0
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        samples += n
        frames = set()
        for frame in stack.split(";"):
            function, _, where = _frame_name(frame).partition(" (")
            frames.add((function.rsplit(".", 1)[-1], where.rstrip(")")))
        for key in frames:
            counts[key] += n
    return [(label, counts[key] / max(samples, 1)) for label, key in ACCOUNT.items()]


def report(args: argparse.Namespace, runs: dict[tuple[str, int], tuple[Run, str]],
           by_stream: dict[str, CoreResult],
           by_list: dict[str, CoreResult]) -> str:
    command = (f".venv/bin/python -m benchmarks.raid --posts {args.posts} --processes "
               f"{','.join(map(str, args.processes))} --partitions {args.partitions} "
               f"--rounds {args.rounds} --core-posts {args.core_posts} --runs {args.runs}"
               f"{' --streams ' + ','.join(args.streams) if args.streams != list(STREAMS) else ''}"
               f"{' --profile' if args.profile else ''}{' --core-only' if args.core_only else ''}")
    parts = [f"Command: `{command}`.\n\nMachine: {machine()}. Broker, workers and this script "
             "share it.\n\nStreams (posts only, no reports): clean = `generate(seed=42, "
             "hit_ratio=0.03, tricky_ratio=0.02)`; ng-raid and watch-raid = "
             "`generate(seed=43, hit_ratio=1.0)` posts kept by their verdict under the shipped "
             "lists (every post of the ng-raid stream has a surviving NG hit; every post of the "
             "watch-raid stream a watch hit — list term or contact detail — and no NG one)."]
    if runs:
        rows = ["| stream | worker processes | posts/s | outputs per post | CPU-s per 100k "
                "posts: workers, broker | machine load after |",
                "| --- | ---: | ---: | ---: | --- | --- |"]
        for (name, _), (run, load) in sorted(runs.items(), key=lambda item: (
                -item[0][1], STREAMS.index(item[0][0]))):
            per = by_stream[name].outputs / len(by_stream[name].texts)
            rows.append(f"| {name} | {run.processes} | {run.rate:,.0f} | {per:.2f} | "
                        f"{run.worker_cpu_s / run.records * 1e5:.1f}, "
                        f"{run.broker_cpu_s / run.records * 1e5:.1f} | {load} |")
        parts.append(f"End to end: {args.posts:,} posts per stream produced ahead to "
                     f"{args.partitions} partitions; each run drains one stream with a fresh "
                     "consumer group, default worker settings, the shipped lists; rate = "
                     "committed posts / seconds from the first commit seen to the last; best "
                     f"of {args.rounds} round(s). Machine load: 1-minute load average and CPU "
                     "pressure (share of the last minute some task waited for a CPU) after "
                     "the run: other work shares this machine.\n\n"
                     + "\n".join(rows))
    rows = ["| stream | list | judge (posts/s, 1 core) | outputs per post | posts resolved "
            "| posts flagged | hit resolution (µs per resolved post) |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    named = [(name, "shipped", result) for name, result in by_stream.items()]
    named += [("clean", f"{kind} 10k", result) for kind, result in by_list.items()]
    for name, wordlist, result in named:
        rows.append(f"| {name} | {wordlist} | {result.rate:,.0f} | "
                    f"{result.outputs / len(result.texts):.2f} | {result.resolved:,} | "
                    f"{result.flagged:,} | {result.resolution_us:.1f} |")
    real, dense = by_list["realistic"], by_list["dense"]
    parts.append(f"Filter core, in process: {args.core_posts:,} posts of each stream through "
                 "`FilterWorker.judge` in batches of 2,000 (decode, normalize, match, detect, "
                 "resolve, decide, build and encode outputs; no Kafka), best of "
                 f"{args.runs} interleaved rounds. Hit resolution = `FilterCore.hits_batch` "
                 "minus the same call with `_resolve` stubbed out, per post that takes the "
                 "resolution path (a candidate or a detector trigger).\n\n"
                 + "\n".join(rows) + f"\n\nDense list / realistic list: "
                 f"{dense.rate / real.rate:.0%} of the rate.")
    if args.profile and args.profile_file.exists():
        lines = ["| function | self | total |", "| --- | ---: | ---: |"]
        lines += [f"| `{name}` | {s:.1%} | {t:.1%} |" for name, s, t in
                  hottest(args.profile_file, 15)]
        shares = ["| where | share of samples (total) |", "| --- | ---: |"]
        shares += [f"| {label} | {share:.1%} |" for label, share in account(args.profile_file)]
        parts.append("One worker of the first ng-raid run, sampled by py-spy (200 samples/s, "
                     "while draining):\n\n" + "\n".join(shares) + "\n\n" + "\n".join(lines))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000, help="posts per stream")
    parser.add_argument("--processes", default="2,1",
                        help="comma-separated worker process counts (default 2,1)")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--streams", default=",".join(STREAMS),
                        help=f"streams drained end to end (default {','.join(STREAMS)})")
    parser.add_argument("--rounds", type=int, default=1,
                        help="drains of each stream end to end; each keeps its best")
    parser.add_argument("--core-posts", type=int, default=20_000,
                        help="posts per stream for the in-process measures")
    parser.add_argument("--runs", type=int, default=5, help="rounds of the in-process measures")
    parser.add_argument("--profile", action="store_true",
                        help="sample a worker of the first ng-raid run with py-spy")
    parser.add_argument("--core-only", action="store_true", help="no broker, no workers")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    args.processes = [int(n) for n in args.processes.split(",")]
    args.streams = args.streams.split(",")
    if not set(args.streams) <= set(STREAMS):
        raise SystemExit(f"--streams: choose among {', '.join(STREAMS)}")
    if args.profile and not (Path(sys.executable).parent / "py-spy").exists():
        raise SystemExit("--profile needs py-spy: run scripts/setup.sh bench")
    args.workdir = Path(tempfile.mkdtemp(prefix="mimamori-raid-"))
    args.profile_file = args.workdir / "raid.pyspy.txt"
    try:
        data = streams(max(args.posts, args.core_posts) if not args.core_only
                       else args.core_posts)
        runs = {} if args.core_only else asyncio.run(end_to_end(args, data))
        by_stream, by_list = core_only(args, data)
        body = report(args, runs, by_stream, by_list)
        publish("Raids and dense lists (issue 15)", body,
                write=not args.no_write and not args.core_only)
    finally:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
