"""Latency from producing a post to reading its output, at fixed offered rates, next to the
broker's own floor.

    .venv/bin/python -m benchmarks.latency [--rates 5000,10000,20000] [--seconds 30]

For each offered rate and each kind of consumer, a fresh embedded broker and one process:

- passthrough (`benchmarks/passthrough.py`): consume, copy every record to an output topic,
  acknowledge, commit, with the worker's own client settings: the floor of two hops through
  the broker;
- filter: `python -m pipeline run` with default settings.

This script produces posts at a steady rate (a tick every 5 ms, like many site servers sending
as posts arrive; producer linger 1 ms), reads the output topics, and for every output takes
the time from the `send` of its post to its arrival at this consumer: what a site sees. The
stream is the benchmark stream with 10% of posts written to hit (more samples for the tail).
The p99 is also given per 5-second window, first and last, because the embedded broker's
memory storage slows down as its log grows. For the filter, the worker's own share is read from
its batch-time histogram. `--bootstrap-servers` runs the same on a real
cluster (for example `docker compose up kafka`) with fresh topics per row. Results go to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.common import machine, publish, tail
from benchmarks.e2e import bench_config, stop_all
from pipeline.config import Config
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker, free_port
from pipeline.tools.sample import generate
from tests.processes import spawn

TICK_S = 0.005
WINDOW_S = 5.0


class _Output(msgspec.Struct):
    post_id: str | None = None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Probe:
    """Sends posts at a rate and times their outputs."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.sent: dict[str, float] = {}
        self.samples: list[tuple[float, float]] = []
        self._started = 0.0
        self._decoder = msgspec.json.Decoder(_Output)

    async def receive(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=50)
            now = time.perf_counter()
            for records in batch.values():
                for r in records:
                    post_id = self._decoder.decode(r.value or b"{}").post_id
                    sent = self.sent.get(post_id or "")
                    if sent is not None:
                        self.samples.append((sent - self._started, now - sent))

    async def send(self, producer: AIOKafkaProducer, rate: int, seconds: float,
                   seed: int) -> float:
        """Offer `rate` posts/s for `seconds`; returns the rate achieved."""
        topic = {"posts": self.config.topics.posts, "reports": self.config.topics.reports}
        records = generate(int(rate * seconds), seed=seed, hit_ratio=0.1, tricky_ratio=0.02,
                           report_ratio=0.0, malformed=False)
        per_tick = rate * TICK_S
        started = self._started = time.perf_counter()
        due = 0.0
        i = 0
        while i < len(records):
            due += per_tick
            while i < min(len(records), int(due)):
                r = records[i]
                post_id = self._decoder.decode(r.value).post_id or ""
                self.sent[post_id] = time.perf_counter()
                await producer.send(topic[r.topic_kind], r.value, key=r.key)
                i += 1
            next_tick = started + (due / per_tick) * TICK_S
            await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))
        return len(records) / (time.perf_counter() - started)


def batch_buckets(port: int) -> dict[float, float]:
    """The worker's `mimamori_batch_processing_seconds` histogram (fetch to commit of each
    batch): cumulative count by bucket bound."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        if family.name == "mimamori_batch_processing_seconds":
            return {float(s.labels["le"]): s.value for s in family.samples
                    if s.name.endswith("_bucket")}
    raise SystemExit("the worker exposes no mimamori_batch_processing_seconds histogram")


def bucket_p99(before: dict[float, float], after: dict[float, float]) -> float:
    """The bound of the bucket that holds the 99th percentile of what was observed between two
    scrapes: an upper bound of that percentile."""
    counts = {le: n - before.get(le, 0.0) for le, n in after.items()}
    return min(le for le, n in counts.items() if n >= 0.99 * counts[math.inf])


@dataclass(frozen=True)
class Result:
    kind: str
    rate: int
    achieved: float
    #: (seconds since the first send, latency in seconds) of every timed output.
    samples: list[tuple[float, float]]
    #: The filter worker's own p99 from fetch to commit of a batch (a bucket bound, seconds).
    worker_p99: float | None = None

    @property
    def latencies(self) -> list[float]:
        return [latency for _, latency in self.samples]

    def window_p99(self, which: int) -> float:
        """p99 of the first (0) or last (-1) 5-second window."""
        windows: dict[int, list[float]] = {}
        for at, latency in self.samples:
            windows.setdefault(int(at // WINDOW_S), []).append(latency)
        return percentile(windows[sorted(windows)[which]], 0.99)


async def measure(args: argparse.Namespace, kind: str, rate: int, seed: int,
                  log: Path) -> Result:
    """One kind at one rate on a fresh embedded broker, or on fresh topics of the cluster
    named by `--bootstrap-servers`."""
    broker = None
    bootstrap = args.bootstrap_servers
    if not bootstrap:
        broker = EmbeddedBroker(startup_timeout_s=30)
        await broker.start()
        bootstrap = broker.bootstrap_servers
    process = None
    try:
        config = bench_config(bootstrap, args.partitions)
        config = msgspec.structs.replace(
            config,
            metrics=msgspec.structs.replace(config.metrics, port=free_port("127.0.0.1")),
            kafka=msgspec.structs.replace(config.kafka,
                                          fetch_max_wait_ms=args.fetch_max_wait_ms))
        await ensure_topics(config)
        if kind == "passthrough":
            outputs = [f"{config.topics.posts}.copy"]
            await ensure_topics(config, outputs)
            process = spawn(["benchmarks.passthrough", outputs[0]], config, log)
        else:
            p = config.policy
            outputs = [config.topics.actions] + [config.topics.review(q) for q in
                                                 (p.urgent_queue, p.standard_queue)]
            process = spawn(["pipeline", "run", "--log-level", "WARNING"], config, log)
        producer = AIOKafkaProducer(bootstrap_servers=config.kafka.bootstrap_servers,
                                    acks="all", linger_ms=1)
        consumer = AIOKafkaConsumer(bootstrap_servers=config.kafka.bootstrap_servers,
                                    enable_auto_commit=False, fetch_max_wait_ms=5)
        await producer.start()
        await consumer.start()
        consumer.assign([TopicPartition(t, n) for t in outputs
                         for n in range(config.topics.partitions)])
        probe = Probe(config)
        stop = asyncio.Event()
        receiver = asyncio.create_task(probe.receive(consumer, stop))
        # Warm up until the process has joined its group and outputs flow.
        deadline = time.monotonic() + 60
        while not probe.samples:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"no output from the {kind}:\n{tail(log)}")
            await probe.send(producer, 200, 0.5, seed=1)
            await asyncio.sleep(0.5)
        probe.samples = []
        port = config.metrics.port
        before = batch_buckets(port) if kind == "filter" else {}
        achieved = await probe.send(producer, rate, args.seconds, seed=seed)
        await asyncio.sleep(3)  # stragglers
        worker_p99 = bucket_p99(before, batch_buckets(port)) if kind == "filter" else None
        stop.set()
        await receiver
        await consumer.stop()
        await producer.stop()
        return Result(kind, rate, achieved, probe.samples, worker_p99)
    finally:
        if process is not None:
            stop_all([process])
        if broker is not None:
            broker.stop()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="5000,10000,20000",
                        help="offered posts/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--kinds", default="passthrough,filter",
                        help="what consumes the stream: passthrough, filter or both")
    parser.add_argument("--fetch-max-wait-ms", type=int, default=Config().kafka.fetch_max_wait_ms,
                        help="kafka.fetch_max_wait_ms of the passthrough and the worker "
                             "(default: the default)")
    parser.add_argument("--bootstrap-servers", default="",
                        help="measure on this Kafka cluster (fresh topics per row) instead of "
                             "a fresh embedded broker per row, e.g. the docker-compose Kafka")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    kinds = args.kinds.split(",")
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, rate in enumerate(rates):
            for kind in kinds:
                r = asyncio.run(measure(args, kind, rate, 100 + n, Path(tmp) / f"{kind}.log"))
                results.append(r)
                print(f"{kind:<12} offered {rate:,}/s (achieved {r.achieved:,.0f}/s): "
                      f"{len(r.samples):,} outputs, p50 {ms(statistics.median(r.latencies))} "
                      f"ms, p99 {ms(percentile(r.latencies, 0.99))} ms, first 5 s p99 "
                      f"{ms(r.window_p99(0))} ms, last 5 s p99 {ms(r.window_p99(-1))} ms"
                      + (f", worker fetch to commit p99 <= {ms(r.worker_p99)} ms"
                         if r.worker_p99 is not None else ""), flush=True)
    rows = ["| offered (posts/s) | consumer | achieved | outputs timed | p50 (ms) | p90 (ms) | "
            "p99 (ms) | max (ms) | p99, first 5 s (ms) | p99, last 5 s (ms) | "
            "worker's own p99, fetch to commit (ms) |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        a = r.latencies
        rows.append(f"| {r.rate:,} | {r.kind} | {r.achieved:,.0f} | {len(a):,} | "
                    f"{ms(statistics.median(a))} | {ms(percentile(a, 0.9))} | "
                    f"{ms(percentile(a, 0.99))} | {ms(max(a))} | {ms(r.window_p99(0))} | "
                    f"{ms(r.window_p99(-1))} | "
                    + (f"≤ {ms(r.worker_p99)} |" if r.worker_p99 is not None else "- |"))
    cluster = f" --bootstrap-servers {args.bootstrap_servers}" if args.bootstrap_servers else ""
    where = (f"on fresh topics of the cluster at {args.bootstrap_servers}" if cluster else
             "on a fresh embedded broker, which shares the machine with one consuming process "
             "and the load generator")
    body = (f"Command: `.venv/bin/python -m benchmarks.latency --rates {args.rates} "
            f"--seconds {args.seconds:g} --fetch-max-wait-ms {args.fetch_max_wait_ms}"
            f"{cluster}`.\n\n"
            f"Machine: {machine()}.\n\nTime from the producer's `send` of a post to the "
            "arrival of its output at a consumer of the output topics, "
            f"{args.seconds:g} s at each rate, each row {where}. passthrough: every record "
            "copied to one output topic (the floor of two broker hops); filter: the worker's "
            "Actions and review items (10% of posts written to hit). The worker's own p99 is "
            "read from its `mimamori_batch_processing_seconds` histogram over the timed run: "
            "from a batch's fetch to its offsets committed (judging, producing the outputs and "
            "waiting for their acknowledgements, committing), given as the bound of the bucket "
            "that holds the 99th percentile. The rest of a post's latency is the broker: "
            "waiting to be fetched, and the output's own trip.\n\n" + "\n".join(rows))
    publish("Produce-to-Action latency", body, write=not args.no_write)


if __name__ == "__main__":
    main()
