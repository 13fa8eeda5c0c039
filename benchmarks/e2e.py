"""End-to-end throughput through the embedded broker, next to the plain-aiokafka I/O floor.

    .venv/bin/python -m benchmarks.e2e [--posts 300000] [--processes 1,2] [--profile]

One embedded broker; a stream of posts (and 1% reports) is produced ahead. Then, for each
process count, two consumer groups drain the same records one after the other:

- passthrough (`benchmarks/passthrough.py`): consume, copy every record to an output topic,
  wait for the acknowledgements, commit: the I/O floor;
- filter: `python -m pipeline run`, the real worker (decode, normalize, match, detect, decide,
  produce and acknowledge outputs, commit).

Throughput is committed records per second, read from the group's committed offsets, from the
first commit seen to the last record committed (group formation is left out; a rebalance
while draining is not). CPU seconds of the broker and the workers over the same interval show
where the machine's two cores go. With `--profile` (needs `scripts/setup.sh bench` for
py-spy), the one-process filter run is sampled and the hottest functions are listed.
Results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import msgspec
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from benchmarks.common import ROOT, machine, produce_all, publish, tail
from pipeline.config import Config
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.tools.sample import generate
from tests.processes import cpu_seconds, spawn

STREAM = {"seed": 42, "hit_ratio": 0.03, "tricky_ratio": 0.02, "report_ratio": 0.01,
          "malformed": False}


@dataclass(frozen=True)
class Run:
    kind: str
    processes: int
    records: int
    seconds: float
    worker_cpu_s: float
    broker_cpu_s: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds


def bench_config(bootstrap: str, partitions: int) -> Config:
    """Default worker settings on fresh topics of the embedded broker."""
    prefix = f"b{uuid.uuid4().hex[:8]}."
    base = Config()
    topics = msgspec.structs.replace(
        base.topics, posts=prefix + "posts", reports=prefix + "reports",
        review_prefix=prefix + "review.", decisions=prefix + "decisions",
        violations=prefix + "violations", actions=prefix + "actions", partitions=partitions)
    return msgspec.structs.replace(
        base, topics=topics,
        kafka=msgspec.structs.replace(base.kafka, bootstrap_servers=bootstrap),
        metrics=msgspec.structs.replace(base.metrics, port=0),
        wordlists=msgspec.structs.replace(base.wordlists, dir=str(ROOT / "wordlists"),
                                          reload_interval_ms=0))


def with_group(config: Config, group: str) -> Config:
    return msgspec.structs.replace(
        config, kafka=msgspec.structs.replace(config.kafka, group_id=group))


async def produce_ahead(config: Config, n_posts: int) -> int:
    """The stream, produced as fast as the broker takes it; returns the record count."""
    records = generate(n_posts, **STREAM)  # type: ignore[arg-type]
    topic = {"posts": config.topics.posts, "reports": config.topics.reports}
    return await produce_all(config.kafka.bootstrap_servers,
                             ((topic[r.topic_kind], r.key, r.value) for r in records))


def start_profiler(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling `pid` into collapsed stacks until SIGINT."""
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--format",
                             "raw", "--rate", "200", "-o", str(output), "--pid", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM, then wait (SIGKILL after a minute)."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


async def drain(config: Config, total: int, kind: str, command: list[str], processes: int,
                broker_pid: int, workdir: Path, profile: Path | None = None,
                timeout_s: float = 900) -> Run:
    """Start the processes, wait until the group has committed `total` records, stop them."""
    logs = [workdir / f"{kind}-{processes}-{i}.log" for i in range(processes)]
    procs = [spawn(command, config, log) for log in logs]
    spy = None
    admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka.bootstrap_servers)
    await admin.start()
    partitions = [TopicPartition(t, p) for t in (config.topics.posts, config.topics.reports)
                  for p in range(config.topics.partitions)]
    try:
        deadline = time.monotonic() + timeout_s
        first: tuple[float, int, float, float] | None = None
        done = 0
        while done < total:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit(f"{kind}: {done} of {total} records committed, then "
                                 f"stuck:\n{tail(logs[0])}")
            await asyncio.sleep(0.1)
            offsets = await admin.list_consumer_group_offsets(config.kafka.group_id,
                                                              partitions=partitions)
            now = time.monotonic()
            done = sum(max(0, m.offset) for m in offsets.values() if m is not None)
            if first is None and done:
                first = (now, done, sum(cpu_seconds(p.pid) for p in procs),
                         cpu_seconds(broker_pid))
                if profile is not None:
                    spy = start_profiler(procs[0].pid, profile)
        assert first is not None
        if first[1] >= total:
            raise SystemExit(f"{kind}: all {total:,} records were committed by the first commit "
                             "seen, so there is no interval to time; give it more records")
        worker_cpu = sum(cpu_seconds(p.pid) for p in procs) - first[2]
        broker_cpu = cpu_seconds(broker_pid) - first[3]
        return Run(kind, processes, total - first[1], now - first[0], worker_cpu, broker_cpu)
    finally:
        await admin.close()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        stop_all(procs)


def hottest(profile: Path, top: int = 12) -> list[tuple[str, float, float]]:
    """From py-spy raw (collapsed) stacks: the functions with the most samples on top of the
    stack (self) and anywhere in it (total), as shares of all samples."""
    self_counts: collections.Counter[str] = collections.Counter()
    total_counts: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [_frame_name(f) for f in stack.split(";")]
        samples += n
        self_counts[frames[-1]] += n
        for name in set(frames):
            total_counts[name] += n
    return [(name, n / samples, total_counts[name] / samples)
            for name, n in self_counts.most_common(top)]


def _frame_name(frame: str) -> str:
    # py-spy raw frames read "function (path/to/file.py:line)"
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    marker = "site-packages/"
    if marker in path:
        path = path.split(marker, 1)[1]
    elif str(ROOT) in path:
        path = path.split(str(ROOT) + "/", 1)[1]
    return f"{name} ({path})"


async def run(args: argparse.Namespace) -> tuple[int, list[Run]]:
    broker = EmbeddedBroker(startup_timeout_s=30)
    await broker.start()
    assert broker.process is not None
    runs = []
    try:
        base = bench_config(broker.bootstrap_servers, args.partitions)
        await ensure_topics(base)
        started = time.monotonic()
        total = await produce_ahead(base, args.posts)
        print(f"produced {total:,} records ahead in {time.monotonic() - started:.1f}s",
              flush=True)
        for n in args.processes:
            for kind in ("passthrough", "filter"):
                config = with_group(base, f"{base.topics.posts}.{kind}-{n}")
                if kind == "passthrough":
                    out = f"{base.topics.posts}.copy-{n}"
                    await ensure_topics(config, [out])
                    command = ["benchmarks.passthrough", out]
                else:
                    command = ["pipeline", "run", "--log-level", "WARNING"]
                profile = args.profile_file if args.profile and kind == "filter" and n == 1 \
                    else None
                result = await drain(config, total, kind, command, n, broker.process.pid,
                                     args.workdir, profile)
                runs.append(result)
                print(f"{kind:<12} {n} process(es): {result.rate:>9,.0f} records/s "
                      f"({result.records:,} records in {result.seconds:.1f}s; CPU-s workers "
                      f"{result.worker_cpu_s:.1f}, broker {result.broker_cpu_s:.1f})",
                      flush=True)
    finally:
        broker.stop()
    return total, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300_000)
    parser.add_argument("--processes", default="1,2",
                        help="comma-separated worker process counts (default 1,2)")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--profile", action="store_true",
                        help="sample the one-process filter run with py-spy")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    args.processes = [int(n) for n in args.processes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="mimamori-e2e-"))
    args.workdir = workdir
    args.profile_file = workdir / "filter.pyspy.txt"
    if args.profile and not (Path(sys.executable).parent / "py-spy").exists():
        raise SystemExit("--profile needs py-spy: run scripts/setup.sh bench")
    try:
        total, runs = asyncio.run(run(args))
        rows = ["| worker processes | passthrough (records/s) | filter (records/s) | filter / "
                "passthrough | filter CPU-s per 100k records: workers, broker |",
                "| ---: | ---: | ---: | ---: | --- |"]
        by = {(r.kind, r.processes): r for r in runs}
        for n in args.processes:
            floor, real = by["passthrough", n], by["filter", n]
            rows.append(f"| {n} | {floor.rate:,.0f} | {real.rate:,.0f} | "
                        f"{real.rate / floor.rate:.0%} | "
                        f"{real.worker_cpu_s / real.records * 1e5:.1f}, "
                        f"{real.broker_cpu_s / real.records * 1e5:.1f} |")
        body = (f"Command: `.venv/bin/python -m benchmarks.e2e --posts {args.posts} "
                f"--processes {','.join(map(str, args.processes))} --partitions "
                f"{args.partitions}{' --profile' if args.profile else ''}`.\n\n"
                f"Machine: {machine()}. Broker, workers and this script share it.\n\n"
                f"{total:,} records (posts plus 1% reports) produced ahead to "
                f"{args.partitions} partitions each of posts and reports; each run drains all "
                "of them with a fresh consumer group, default worker settings, the shipped "
                "lists. Rate = committed records / seconds from the first commit seen to the "
                "last. The passthrough copies every record to an output topic; the filter "
                "produces outputs only for the ~5% of posts with hits (and DLQs nothing: the "
                "stream has no malformed records).\n\n" + "\n".join(rows))
        if args.profile:
            lines = ["| function | self | total |", "| --- | ---: | ---: |"]
            lines += [f"| `{name}` | {s:.1%} | {t:.1%} |" for name, s, t in
                      hottest(args.profile_file)]
            body += ("\n\nWhere the one-process filter worker spends its time (py-spy, 200 "
                     "samples/s, while draining; share of samples):\n\n" + "\n".join(lines))
        publish("End to end through the embedded broker", body, write=not args.no_write)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
