"""The `broker` and `demo` commands: mimamori end to end on the embedded broker."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sys
import time

import msgspec

from pipeline.config import Config
from pipeline.contract.messages import Action, ReviewItem
from pipeline.enforcer.demo import Enforcement
from pipeline.filter.service import build_core, stop_on_signals
from pipeline.filter.worker import FilterWorker
from pipeline.kafka.admin import ensure_topics, topic_names
from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.kafka.topicio import committed_total, produce, read_all
from pipeline.telemetry.metrics import Metrics
from pipeline.tools.sample import generate

log = logging.getLogger(__name__)


async def run_broker(config: Config) -> None:
    """The `broker` command: embedded broker in the foreground until Ctrl-C/SIGTERM."""
    broker = EmbeddedBroker(config.broker.host, config.broker.port,
                            config.broker.startup_timeout_ms / 1000, output=None)
    await broker.start()
    try:
        with_broker = msgspec.structs.replace(
            config, kafka=msgspec.structs.replace(
                config.kafka, bootstrap_servers=broker.bootstrap_servers))
        created = await ensure_topics(with_broker)
        print(f"embedded broker ready on {broker.bootstrap_servers}; created {len(created)} "
              f"topics with {config.topics.partitions} partitions. Ctrl-C stops it.", flush=True)
        stop = asyncio.Event()
        stop_on_signals(stop)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            if broker.process is None or broker.process.poll() is not None:
                raise SystemExit("embedded broker exited unexpectedly")
    finally:
        broker.stop()


def _say(text: str = "") -> None:
    print(text, flush=True)


async def run_demo(config: Config, *, posts: int, workers: int, keep_running: bool) -> int:
    """The `demo` command. Returns the exit status."""
    port = config.broker.port if config.broker.port != 9092 else 0
    broker = EmbeddedBroker(config.broker.host, port, config.broker.startup_timeout_ms / 1000)
    # The demo prints its own account; only warnings and errors of the parts it runs show.
    for name in ("aiokafka", "pipeline"):
        logging.getLogger(name).setLevel(logging.WARNING)
    _say("mimamori demo")
    _say("=============")
    await broker.start()
    try:
        return await _demo(config, broker, posts, workers, keep_running)
    finally:
        broker.stop()


async def _demo(config: Config, broker: EmbeddedBroker, posts: int, n_workers: int,
                keep_running: bool) -> int:
    config = msgspec.structs.replace(
        config,
        kafka=msgspec.structs.replace(config.kafka, bootstrap_servers=broker.bootstrap_servers,
                                      group_id="mimamori-demo"),
    )
    t = config.topics
    _say(f"1. embedded Kafka-protocol broker (Tansu) up on {broker.bootstrap_servers}")
    await ensure_topics(config)
    _say(f"   topics: {', '.join(topic_names(config))} ({t.partitions} partitions each)")

    records = generate(posts, offenders=8)  # repeat offenders walk the enforcer's ladder
    kinds = collections.Counter(r.kind for r in records)
    topic_of = {"posts": t.posts, "reports": t.reports}
    await produce(broker.bootstrap_servers,
                  ((topic_of[r.topic_kind], r.key, r.value) for r in records))
    _say(f"2. produced {len(records)} records: {kinds['clean']} clean posts, {kinds['hit']} "
         f"posts written to hit, {kinds['report']} user reports, "
         f"{len(records) - kinds['clean'] - kinds['hit'] - kinds['report']} malformed")

    metrics = Metrics()
    core = build_core(config, metrics)
    metrics_url = None
    if config.metrics.port:
        try:
            metrics.serve(config.metrics.host, config.metrics.port)
            metrics_url = f"http://{config.metrics.host}:{config.metrics.port}/metrics"
        except OSError as exc:
            _say(f"   (metrics port {config.metrics.port} unavailable: {exc.strerror}; "
                 "pass --metrics-port to pick another)")
    _say(f"3. {n_workers} filter worker(s) in consumer group {config.kafka.group_id!r}, "
         f"{len(core.matcher.wordlist.entries)} wordlist entries (version {core.version})")
    stop = asyncio.Event()
    stop_on_signals(stop)
    workers = [FilterWorker(config, core, metrics) for _ in range(n_workers)]
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    enforcement = Enforcement(config, metrics.registry, metrics.loop, stop)
    tasks.append(enforcement.task)
    started = time.perf_counter()
    inputs = [t.posts, t.reports]
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and not stop.is_set():
        done = await committed_total(broker.bootstrap_servers, config.kafka.group_id, inputs)
        if done >= len(records) or any(task.done() for task in tasks):
            break
        await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - started
    if done < len(records):
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        _say(f"demo failed: {len(records) - done} records not committed after {elapsed:.1f}s")
        return 1
    busy = metrics.registry.get_sample_value("mimamori_batch_processing_seconds_sum",
                                           {"service": "filter"}) or 0.0
    _say(f"   all {len(records)} records filtered and committed {elapsed:.1f}s after start "
         f"(most of it the consumer group forming); {busy:.2f}s spent in batches, fetch to "
         f"commit: {len(records) / max(busy, 1e-9):,.0f} records/s")

    await _summarize(config, broker.bootstrap_servers, metrics)
    enforced = await enforcement.report(_say)
    from pipeline.console.demo import start_demo_console

    console = await start_demo_console(config, metrics.registry, metrics.loop)
    cases = await console.wait_ingested()
    _say(f"\n10. patrol console: {console.url}  ({cases} cases in its queues)\n"
         f"   log in as {console.username!r} with password {console.password!r} (demo only)"
         + ("" if keep_running else "; run with --keep-running to keep it up"))
    if metrics_url:
        _say(f"\n/metrics: {metrics_url}")
    if keep_running and metrics_url:
        _say("keeping broker, workers, console and /metrics up; Ctrl-C stops.")
        await stop.wait()
    stop.set()
    await asyncio.gather(*tasks)
    await console.stop()
    return 0 if enforced else 1


async def _summarize(config: Config, bootstrap: str, metrics: Metrics) -> None:
    t, p = config.topics, config.policy
    reg = metrics.registry
    _say("\n4. verdicts")
    for outcome in ("clean", "review", "ng", "report"):
        value = reg.get_sample_value("mimamori_verdicts_total", {"outcome": outcome}) or 0
        _say(f"   {outcome:<8} {value:>7,.0f}")

    actions = await read_all(bootstrap, [t.actions])
    decoded = [a for a in (msgspec.json.decode(r.value or b"", type=Action) for r in actions)
               if a.source == "auto"]  # the enforcer's come in step 9
    _say(f"\n5. {len(decoded)} automatic actions on {t.actions}, for example:")
    for action in decoded[:3]:
        _say(f"   {action.action} {action.site_id}:{action.user_id} post {action.post_id} "
             f"({action.reason})")

    _say("\n6. review items")
    for queue in (p.urgent_queue, p.standard_queue, p.reports_queue):
        items = [msgspec.json.decode(r.value or b"", type=ReviewItem)
                 for r in await read_all(bootstrap, [t.review(queue)])]
        _say(f"   {t.review(queue):<22} {len(items):>5}")
        for item in sorted(items, key=lambda i: -i.priority)[:2]:
            spans = ", ".join(f"{item.text[h.start:h.end]!r}→{h.term}({h.category})"
                              for h in item.hits)
            _say(f"      p{item.priority} {item.text[:40]!r} {spans}")
    violations = await read_all(bootstrap, [t.violations])
    _say(f"\n7. {len(violations)} strike events on {t.violations} for the enforcer")

    dlq_records = await read_all(bootstrap, [t.dlq(t.posts), t.dlq(t.reports)])
    _say(f"\n8. {len(dlq_records)} malformed records on the DLQ, original bytes kept:")
    for record in dlq_records:
        headers = dict(record.headers)
        _say(f"   {headers['dlq.error.type'].decode():<13} "
             f"{headers['dlq.error.message'].decode()[:70]}")
    sys.stdout.flush()
