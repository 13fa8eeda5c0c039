"""The enforcer: events per second per core, and restoring a ledger of a million users.

    .venv/bin/python -m benchmarks.enforcer [--events 300000] [--users 75000]
        [--e2e-events 300000] [--restore-users 1000000] [--skip-e2e] [--skip-restore]

- **core**: `Enforcer._process` and its commit over batches of 2,000 ConsumerRecords (decode,
  ledger lookup, the ladder, actions and ledger records encoded), one core, no Kafka. The
  events: violations of users who offend repeatedly (on average `events / users` each, so the
  ledgers grow, climb the ladder and are updated far more often than created), with 5% patrol
  decisions among them, a third of those overturns.
- **e2e**: the same kind of stream produced ahead to 6 partitions of the embedded broker and
  drained by one `mimamori enforce` process: committed events per second from its first
  commit to its last, and events per CPU-second of the enforcer process (its per-core rate).
- **restore**: `--restore-users` ledgers (70% with one strike, 20% with two and a warn, 10%
  with four and a suspension, as the enforcer writes them) produced to a 6-partition changelog,
  then read back the way an enforcer that is assigned every partition restores them.

Results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

import msgspec
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import CollectorRegistry

from benchmarks.common import machine, produce_all, publish, tail
from benchmarks.e2e import hottest, start_profiler
from pipeline.config import Config
from pipeline.contract.ids import stable_id, user_key
from pipeline.contract.messages import Decision, Violation, encoder
from pipeline.enforcer.ledger import Ledger, encode_ledger
from pipeline.enforcer.metrics import EnforcerMetrics
from pipeline.enforcer.rules import Policy, apply
from pipeline.enforcer.service import Enforcer
from pipeline.enforcer.state import LedgerStore, read_changelog
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.deadletters import DeadLetters
from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.kafka.loop import Batch
from tests.processes import cpu_seconds, spawn

PARTITIONS = 6
CATEGORIES = ["abuse"] * 6 + ["sexual"] * 2 + ["crime", "meeting"]


def bench_config(bootstrap: str = "127.0.0.1:9092") -> Config:
    prefix = f"e{uuid.uuid4().hex[:8]}."
    base = Config()
    topics = msgspec.structs.replace(
        base.topics, decisions=prefix + "decisions", violations=prefix + "violations",
        actions=prefix + "actions", ledger=prefix + "ledger", partitions=PARTITIONS)
    return msgspec.structs.replace(
        base, topics=topics,
        kafka=msgspec.structs.replace(base.kafka, bootstrap_servers=bootstrap),
        enforcer=msgspec.structs.replace(base.enforcer, group_id=prefix + "enforcer"),
        metrics=msgspec.structs.replace(base.metrics, port=0))


def stream(events: int, users: int, seed: int = 5) -> list[Violation | Decision]:
    """Violations of repeat offenders with 5% patrol decisions (a third of them a lead's
    approve of an earlier violation's post: an overturn), in time order."""
    rng = random.Random(seed)
    out: list[Violation | Decision] = []
    posts: list[tuple[str, str, str]] = []
    for i in range(events):
        seconds = i // 20
        when = f"2026-11-{23 + seconds // 86400:02d}T{seconds // 3600 % 24:02d}:" \
               f"{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"
        # Repeat offenders: one user in twenty gets a tenth of the events (about twice as many
        # each as the others).
        n = rng.randrange(users // 20) if rng.random() < 0.1 else rng.randrange(users)
        site, user = f"site-{n % 3 + 1:02d}", f"u{n:07d}"
        if posts and rng.random() < 0.05:
            d_site, d_user, d_post = rng.choice(posts)
            kind = "approve" if rng.random() < 0.33 else rng.choice(["warn", "delete"])
            out.append(Decision(
                decision_id=f"d{i}", item_id=f"i{i}", site_id=d_site, user_id=d_user,
                post_id=d_post, decision=kind, duration_s=None, note="",  # type: ignore[arg-type]
                reviewer="r", role="lead", overturns=None, decided_at=when))
            continue
        post = f"p{i:08d}"
        posts.append((site, user, post))
        out.append(Violation(
            violation_id=stable_id("violation", site, post), site_id=site, user_id=user,
            post_id=post, categories=[rng.choice(CATEGORIES)], terms=["t"], source="filter",
            created_at=when, detected_at=when))
    return out


def record_batches(config: Config, events: list[Violation | Decision],
                   size: int = 2000) -> list[Batch]:
    t = config.topics
    batches: list[Batch] = []
    for start in range(0, len(events), size):
        batch: Batch = {}
        for offset, e in enumerate(events[start:start + size], start=start):
            key = user_key(e.site_id, e.user_id)
            topic = t.violations if isinstance(e, Violation) else t.decisions
            tp = TopicPartition(topic, hash(key) % PARTITIONS)
            value = encoder.encode(e)
            batch.setdefault(tp, []).append(ConsumerRecord(
                topic, tp.partition, offset, 0, 0, key, value, None, len(value), len(key), []))
        batches.append(batch)
    return batches


def core_rate(config: Config, batches: list[Batch], runs: int) -> tuple[float, float, int, int]:
    """Events per CPU-second and per wall second through the processor (best of `runs`; the
    CPU time is this process's, so other work on a shared machine does not count), and the
    actions and ledger records the last run produced."""
    total = sum(len(rs) for b in batches for rs in b.values())
    dlq = DeadLetters(config.topics)
    counts = [0, 0]
    best_cpu = best_wall = float("inf")
    for _ in range(runs):
        enforcer = Enforcer(config, EnforcerMetrics(CollectorRegistry()),
                            clock=lambda: "2026-11-23T00:00:00.000Z")
        for p in range(PARTITIONS):
            enforcer.store.load(p, {})
        counts[:] = [0, 0]
        cpu, wall = time.process_time(), time.perf_counter()
        for batch in batches:
            result = enforcer._process(batch, dlq)
            for o in result.outputs:
                counts[o.topic == config.topics.ledger] += 1
            assert result.on_commit is not None
            result.on_commit()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return total / best_cpu, total / best_wall, counts[0], counts[1]


async def e2e(config: Config, events: list[Violation | Decision], broker_pid: int,
              workdir: Path, profile: Path | None = None) -> tuple[float, float, float]:
    """(events/s wall, events per enforcer CPU-second, broker CPU-s per 100k events)."""
    t = config.topics
    await ensure_topics(config, [t.violations, t.decisions, t.actions, t.ledger,
                                 t.dlq(t.violations), t.dlq(t.decisions)])
    await produce_all(config.kafka.bootstrap_servers, [
        (t.violations if isinstance(e, Violation) else t.decisions,
         user_key(e.site_id, e.user_id), encoder.encode(e)) for e in events])
    log = workdir / "enforcer.log"
    spy = None
    proc = spawn(["pipeline", "enforce", "--log-level", "WARNING"], config, log)
    admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka.bootstrap_servers)
    await admin.start()
    partitions = [TopicPartition(topic, p) for topic in (t.violations, t.decisions)
                  for p in range(PARTITIONS)]
    try:
        first: tuple[float, int, float, float] | None = None
        done = 0
        deadline = time.monotonic() + 900
        while done < len(events):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"enforcer: {done} of {len(events)} committed:\n{tail(log)}")
            await asyncio.sleep(0.1)
            offsets = await admin.list_consumer_group_offsets(config.enforcer.group_id,
                                                              partitions=partitions)
            now = time.monotonic()
            done = sum(max(0, m.offset) for m in offsets.values() if m is not None)
            if first is None and done:
                first = (now, done, cpu_seconds(proc.pid), cpu_seconds(broker_pid))
                if profile is not None:
                    spy = start_profiler(proc.pid, profile)
        assert first is not None
        drained = len(events) - first[1]
        cpu = cpu_seconds(proc.pid) - first[2]
        broker_cpu = cpu_seconds(broker_pid) - first[3]
        return drained / (now - first[0]), drained / cpu, broker_cpu / drained * 1e5
    finally:
        await admin.close()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        proc.terminate()
        proc.wait(60)


def ledger_templates() -> list[bytes]:
    """Ledgers as the enforcer writes them: one strike; two and a warn; four and a
    suspension. `USER` stands for the user id."""
    policy = Policy.of(Config().ladder, Config().enforcer)
    out = []
    for strikes in (1, 2, 4):
        ledger: Ledger | None = None
        for k in range(strikes):
            post = f"p{k:08d}"
            ledger = apply(ledger, Violation(
                violation_id=stable_id("violation", "site-01", post), site_id="site-01",
                user_id="USER", post_id=post, categories=["abuse"], terms=["t"],
                source="filter", created_at="2026-11-23T00:00:00Z",
                detected_at=f"2026-11-23T00:{k:02d}:00Z"), "2026-11-23T00:00:00.000Z",
                policy).ledger
        assert ledger is not None
        out.append(encode_ledger(ledger))
    return out


async def restore_bench(config: Config, users: int) -> tuple[float, float, float, float]:
    """(produce s, restore s, MB read, MiB the restored ledgers take in memory)."""
    t = config.topics
    await ensure_topics(config, [t.ledger])
    one, two, four = ledger_templates()
    records = []
    size = 0
    for n in range(users):
        user = f"u{n:08d}"
        pick = n % 10
        template = one if pick < 7 else two if pick < 9 else four
        value = template.replace(b'"user_id":"USER"', f'"user_id":"{user}"'.encode())
        size += len(value)
        records.append((t.ledger, user_key("site-01", user), value))
    started = time.perf_counter()
    await produce_all(config.kafka.bootstrap_servers, records)
    produced_s = time.perf_counter() - started
    del records
    started = time.perf_counter()
    restored = await read_changelog(config, range(PARTITIONS))
    store = LedgerStore()
    for partition, ledgers in restored.items():
        store.load(partition, ledgers)
    restore_s = time.perf_counter() - started
    assert store.users() == users, (store.users(), users)
    held = sum(sys.getsizeof(d) + sum(sys.getsizeof(k) + sys.getsizeof(v)
                                      for k, v in d.items()) for d in restored.values())
    return produced_s, restore_s, size / 1e6, held / 2**20


async def broker_parts(args: argparse.Namespace, events: list[Violation | Decision],
                       ) -> dict[str, tuple[float, ...]]:
    broker = EmbeddedBroker(startup_timeout_s=30)
    await broker.start()
    assert broker.process is not None
    out: dict[str, tuple[float, ...]] = {}
    try:
        if not args.skip_e2e:
            out["e2e"] = await e2e(bench_config(broker.bootstrap_servers), events,
                                   broker.process.pid, args.workdir,
                                   args.workdir / "enforcer.pyspy.txt" if args.profile else None)
            print(f"e2e: {out['e2e'][0]:,.0f} events/s, {out['e2e'][1]:,.0f} per enforcer "
                  "CPU-s", flush=True)
        if not args.skip_restore:
            out["restore"] = await restore_bench(bench_config(broker.bootstrap_servers),
                                                 args.restore_users)
            print(f"restore: {out['restore']}", flush=True)
    finally:
        broker.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--users", type=int, default=75_000)
    parser.add_argument("--e2e-events", type=int, default=300_000)
    parser.add_argument("--restore-users", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--skip-restore", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="sample the end-to-end enforcer with py-spy (scripts/setup.sh bench)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    args.workdir = Path(tempfile.mkdtemp(prefix="mimamori-enforcer-"))

    load_before = os.getloadavg()[0]
    config = bench_config()
    batches = record_batches(config, stream(args.events, args.users))
    # The input stands for records that, in the service, live one batch at a time: out of
    # the garbage collector's sight, or its full collections would scan them over and over.
    gc.collect()
    gc.freeze()
    rate, wall_rate, actions, ledgers = core_rate(config, batches, args.runs)
    del batches
    gc.unfreeze()
    print(f"core: {rate:,.0f} events per CPU-s, {wall_rate:,.0f} per s ({actions:,} actions, "
          f"{ledgers:,} ledger records)", flush=True)
    results = asyncio.run(broker_parts(args, stream(args.e2e_events, args.users, seed=6)))

    command = (f"`.venv/bin/python -m benchmarks.enforcer --events {args.events} --users "
               f"{args.users} --e2e-events {args.e2e_events} --restore-users "
               f"{args.restore_users}`")
    rows = ["| measure | result | goal |", "| --- | ---: | ---: |",
            f"| core: events per CPU-second (`Enforcer._process` + commit, batches of 2,000) | "
            f"{rate:,.0f} | ≥ 20,000 |",
            f"| core: events per wall second | {wall_rate:,.0f} | |"]
    if "e2e" in results:
        wall, per_cpu, broker = results["e2e"]
        rows += [f"| end to end, one `enforce` process: committed events/s | {wall:,.0f} | |",
                 f"| end to end: events per CPU-second of the enforcer (per core) | "
                 f"{per_cpu:,.0f} | ≥ 20,000 |",
                 f"| end to end: broker CPU-s per 100k events | {broker:.1f} | |"]
    if "restore" in results:
        _, restore_s, mb, mib = results["restore"]
        rows += [f"| restore {args.restore_users:,} users' ledgers ({mb:,.0f} MB) from the "
                 f"changelog, all 6 partitions into one enforcer (s) | {restore_s:.1f} | < 30 |",
                 f"| restore rate (ledgers/s) | {args.restore_users / restore_s:,.0f} | |",
                 f"| memory the restored ledgers take (keys, values, dicts; MiB) | {mib:,.0f} | |"]
    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    body = (f"Command: {command}.\n\nMachine: {machine()}. Broker, enforcer and this script "
            f"share it; 1-minute load average {load} (the machine is shared).\n\n"
            f"Core: {args.events:,} events of {args.users:,} users (one in twenty gets a tenth "
            "of the events), 5% patrol decisions, a third of them overturns; "
            f"{actions:,} actions and {ledgers:,} ledger records produced; best of "
            f"{args.runs}. End to end: {args.e2e_events:,} such events produced ahead to 6 "
            "partitions of each input topic, drained by one `mimamori enforce` process with "
            "default settings (batches of 2,000), measured from its first commit to its last. "
            "Restore: ledgers of 1, 2 or 4 strikes (70/20/10%) as the enforcer writes them, "
            "read from the beginning of each partition to its high watermark (what an "
            "enforcer does when it is assigned partitions); values are kept as bytes and "
            "decoded on a user's next event.\n\n" + "\n".join(rows))
    if args.profile and "e2e" in results:
        lines = ["| function | self | total |", "| --- | ---: | ---: |"]
        lines += [f"| `{name}` | {s:.1%} | {t:.1%} |"
                  for name, s, t in hottest(args.workdir / "enforcer.pyspy.txt")]
        body += ("\n\nWhere the end-to-end enforcer spends its time (py-spy, 200 samples/s, "
                 "while draining; share of samples):\n\n" + "\n".join(lines))
    publish("Enforcer: events per core, ledger restore", body, write=not args.no_write)


if __name__ == "__main__":
    main()
