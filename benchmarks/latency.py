"""Latency from producing a post to reading its Action, at fixed offered rates.

    .venv/bin/python -m benchmarks.latency [--rates 5000,10000,20000] [--seconds 30]

One embedded broker and one `python -m pipeline run` worker with default settings. This script
produces posts at a steady rate (a tick every 5 ms, like many site servers sending as posts
arrive; producer linger 1 ms) and reads the actions and review topics, and for every output
takes the time from the `send` of its post to its arrival at this consumer: what a site sees.
The stream is the benchmark stream with 10% of posts written to hit (more samples for the
tail; a clean post costs the worker less, not more). Results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from benchmarks.common import machine, tail, write_section
from benchmarks.e2e import bench_config, stop_all
from pipeline.broker import EmbeddedBroker, ensure_topics, free_port
from pipeline.config import Config
from pipeline.sample import generate
from tests.processes import spawn

TICK_S = 0.005


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
        self.latency: dict[str, list[float]] = {"action": [], "review": []}
        self._decoder = msgspec.json.Decoder(_Output)

    async def receive(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        actions = self.config.topics.actions
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=50)
            now = time.perf_counter()
            for tp, records in batch.items():
                kind = "action" if tp.topic == actions else "review"
                for r in records:
                    post_id = self._decoder.decode(r.value or b"{}").post_id
                    sent = self.sent.get(post_id or "")
                    if sent is not None:
                        self.latency[kind].append(now - sent)

    async def send(self, producer: AIOKafkaProducer, rate: int, seconds: float,
                   seed: int) -> float:
        """Offer `rate` posts/s for `seconds`; returns the rate achieved."""
        topic = {"posts": self.config.topics.posts, "reports": self.config.topics.reports}
        records = generate(int(rate * seconds), seed=seed, hit_ratio=0.1, tricky_ratio=0.02,
                           report_ratio=0.0, malformed=False)
        per_tick = rate * TICK_S
        started = time.perf_counter()
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


async def run(args: argparse.Namespace,
              log: Path) -> list[tuple[int, float, list[float], list[float]]]:
    broker = EmbeddedBroker(startup_timeout_s=30)
    await broker.start()
    worker = None
    try:
        config = bench_config(broker.bootstrap_servers, args.partitions)
        config = msgspec.structs.replace(
            config,
            metrics=msgspec.structs.replace(config.metrics, port=free_port("127.0.0.1")),
            kafka=msgspec.structs.replace(config.kafka,
                                          fetch_max_wait_ms=args.fetch_max_wait_ms))
        await ensure_topics(config)
        worker = spawn(["pipeline", "run", "--log-level", "WARNING"], config, log)
        producer = AIOKafkaProducer(bootstrap_servers=config.kafka.bootstrap_servers,
                                    acks="all", linger_ms=1)
        consumer = AIOKafkaConsumer(bootstrap_servers=config.kafka.bootstrap_servers,
                                    enable_auto_commit=False, fetch_max_wait_ms=5)
        await producer.start()
        await consumer.start()
        p = config.policy
        outputs = [config.topics.actions] + [config.topics.review(q) for q in
                                             (p.urgent_queue, p.standard_queue)]
        consumer.assign([TopicPartition(t, n) for t in outputs
                         for n in range(config.topics.partitions)])
        probe = Probe(config)
        stop = asyncio.Event()
        receiver = asyncio.create_task(probe.receive(consumer, stop))
        # Warm up until the worker has joined the group and outputs flow.
        deadline = time.monotonic() + 60
        while not probe.latency["action"]:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"no output from the worker:\n{tail(log)}")
            await probe.send(producer, 200, 0.5, seed=1)
            await asyncio.sleep(0.5)
        results = []
        for n, rate in enumerate(args.rates):
            probe.latency = {"action": [], "review": []}
            achieved = await probe.send(producer, rate, args.seconds, seed=100 + n)
            await asyncio.sleep(3)  # stragglers
            results.append((rate, achieved, probe.latency["action"], probe.latency["review"]))
            a = probe.latency["action"]
            print(f"offered {rate:,}/s (achieved {achieved:,.0f}/s): {len(a):,} actions, "
                  f"p50 {statistics.median(a) * 1000:.1f} ms, p99 "
                  f"{percentile(a, 0.99) * 1000:.1f} ms", flush=True)
        stop.set()
        await receiver
        await consumer.stop()
        await producer.stop()
        return results
    finally:
        if worker is not None:
            stop_all([worker])
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="5000,10000,20000",
                        help="offered posts/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--fetch-max-wait-ms", type=int, default=Config().kafka.fetch_max_wait_ms,
                        help="the worker's kafka.fetch_max_wait_ms (default: the default)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    args.rates = [int(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(run(args, Path(tmp) / "worker.log"))
    rows = ["| offered (posts/s) | achieved | Actions timed | p50 (ms) | p90 (ms) | p99 (ms) | "
            "max (ms) | review items timed | review p99 (ms) |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for rate, achieved, a, r in results:
        rows.append(f"| {rate:,} | {achieved:,.0f} | {len(a):,} | "
                    f"{statistics.median(a) * 1000:.1f} | {percentile(a, 0.9) * 1000:.1f} | "
                    f"{percentile(a, 0.99) * 1000:.1f} | {max(a) * 1000:.1f} | {len(r):,} | "
                    f"{percentile(r, 0.99) * 1000:.1f} |")
    body = (f"Command: `.venv/bin/python -m benchmarks.latency --rates "
            f"{','.join(map(str, args.rates))} --seconds {args.seconds:g} "
            f"--fetch-max-wait-ms {args.fetch_max_wait_ms}`.\n\n"
            f"Machine: {machine()}. Broker, one worker process (default settings but "
            f"`kafka.fetch_max_wait_ms = {args.fetch_max_wait_ms}`) and the load generator "
            "share it.\n\nTime from the producer's `send` of a post to the "
            "arrival of its Action (or review item) at a consumer of the output topics, "
            f"{args.seconds:g} s at each rate, 10% of posts written to hit.\n\n" +
            "\n".join(rows))
    print(body)
    if not args.no_write:
        write_section("Produce-to-Action latency", body)


if __name__ == "__main__":
    main()
