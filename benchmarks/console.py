"""Patrol console benchmark: ingest rate into the store, then "next case" and the case page
under load from simulated reviewers through the real web app, on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.console --cases 1000000 --reviewers 200

1. The store gets `--cases` cases through `Store.ingest` (the ingest's own transaction, batches
   of 5,000 review items: one filter item per post, and user reports on one post in ten that
   merge into its case), timed: the ingest rate.
2. `--reviewers` accounts (staff, one of 33 sites each) log in to the console served by uvicorn
   in a child process (the web app alone: no Kafka), and each works in a loop: open the case
   page, think (`--think-ms`, uniform ±50%), decide, which records the decision and claims the
   next case in the same request (the key press a reviewer waits on: "next case"). Their first
   claim is a plain POST /next. Latency is measured in this process from request to response.
3. With `--ingest-beside 0,250` (say) each load runs again with the console process ingesting
   new cases flat out beside the reviewers, as it does when it drains a backlog: in one
   transaction per batch (0), or on SQLite in slices of so many items (`Store.ingest_slice`).

Goals (issue 13): "next case" p99 < 50 ms and case page p95 < 100 ms with 1,000,000 cases and
200 reviewers; ingest >= 5,000 items/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import argon2
import httpx2 as httpx
import sqlalchemy as sa

from benchmarks.common import ROOT, http_status, machine, machine_load, publish
from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Hit, ReviewItem

SITES = [f"site-{i:02d}" for i in range(1, 34)]
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "benchmark password"
TEXT = "明日の{n}時に駅前で会おうよ、ライン交換しよ しね 連絡まってる {n}"
QUEUES = (("urgent", 90), ("standard", 50), ("standard", 50), ("standard", 50))


def _items(start: int, count: int, rng: random.Random) -> list[ReviewItem]:
    out = []
    for n in range(start, start + count):
        site = SITES[n % len(SITES)]
        text = TEXT.format(n=n)
        at = text.index("しね")
        queue, priority = QUEUES[n % len(QUEUES)]
        created = f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z"
        out.append(ReviewItem(
            item_id=stable_id("bench", "filter", site, str(n)), queue=queue, priority=priority,
            site_id=site, user_id=f"u{n % 50_000}", post_id=f"p{n}", text=text,
            hits=[Hit("しね", "ng", "abuse", at, at + 2),
                  Hit("ライン交換", "watch", "contact", text.index("ライン"),
                      text.index("ライン") + 5)],
            source="filter", created_at=created))
        if n % 10 == 0:
            for r in range(rng.randint(1, 3)):
                out.append(ReviewItem(
                    item_id=stable_id("bench", "report", site, f"{n}-{r}"), queue="reports",
                    priority=30, site_id=site, user_id=f"u{n % 50_000}", post_id=f"p{n}",
                    text=text, hits=[], source="report", created_at=created,
                    report_id=f"r{n}-{r}", report_category="violating_post",
                    report_text="ひどい投稿です", reporter_id=f"reporter{rng.randint(0, 9999)}"))
    return out


def _open(url: str, schema: str | None) -> object:
    from pipeline.console.store import Store

    store = Store(url, schema=schema, pool_size=20)
    store.hasher = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return store


def load(url: str, schema: str | None, cases: int, reviewers: int) -> tuple[float, int]:
    """Fill the store; returns (items per second, items)."""
    from pipeline.console.store import Store

    store = _open(url, schema)
    assert isinstance(store, Store)
    store.migrate()
    rng = random.Random(13)
    batch = 5000
    items_total = 0
    busy = 0.0
    for start in range(0, cases, batch):
        items = _items(start, min(batch, cases - start), rng)
        began = time.perf_counter()
        store.ingest(items)
        busy += time.perf_counter() - began
        items_total += len(items)
        if start % 100_000 == 0:
            print(f"  {start + batch:,} cases, {items_total / busy:,.0f} items/s", flush=True)
    for i in range(reviewers):
        store.add_user(f"r{i:03d}", "staff", PASSWORD, frozenset({SITES[i % len(SITES)]}))
    if store.backend == "postgresql":
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    store.close()
    return items_total / busy, items_total


def _ingest_beside(store: object, first: int, batch: int, stop: threading.Event,
                   log_path: Path) -> None:
    """Ingest new cases flat out in `batch`-item calls until `stop`, as the console's own
    ingest does in its process when it drains a backlog (after a restart or an outage): one
    `Store.ingest` per consumer batch of `worker.max_batch_records` records. Writes the items
    per second it kept up to `log_path`."""
    from pipeline.console.store import Store

    assert isinstance(store, Store)
    rng = random.Random(29)
    start, items, began = first, 0, time.perf_counter()
    while not stop.is_set():
        chunk = _items(start, batch, rng)
        store.ingest(chunk)
        start += batch
        items += len(chunk)
        partial = log_path.with_suffix(".part")  # replaced whole: never read half-written
        partial.write_text(f"{items} {time.perf_counter() - began:.3f}\n")
        partial.replace(log_path)


def serve(url: str, schema: str | None, port: int, ingest_from: int | None = None,
          ingest_batch: int = 2000, ingest_log: Path | None = None,
          ingest_slice: int | None = None) -> None:
    """The console web app alone (no Kafka), for the load phase; with `ingest_from`, an ingest
    thread beside it writes new cases from that number on, flat out (`_ingest_beside`), in
    transactions of `ingest_slice` items (0: one per call; None: the store's default)."""
    import uvicorn

    from pipeline.config import Config
    from pipeline.console.metrics import ConsoleMetrics
    from pipeline.console.store import Store
    from pipeline.console.web.app import create_app
    from pipeline.filter.service import freeze_heap

    store = _open(url, schema)
    assert isinstance(store, Store)
    if ingest_slice is not None:
        store.ingest_slice = ingest_slice or None
    config = Config()
    config = config.__class__(console=config.console.__class__(
        login_max_failures=1_000_000))
    app = create_app(config, store, ConsoleMetrics())
    freeze_heap()  # as `mimamori console` does once it listens
    stop = threading.Event()
    if ingest_from is not None:
        assert ingest_log is not None
        threading.Thread(target=_ingest_beside, daemon=True,
                         args=(store, ingest_from, ingest_batch, stop, ingest_log)).start()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    stop.set()


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else 0.0


async def _reviewer(base: str, name: str, deadline: float, think_s: float,
                    out: dict[str, list[float]], rng: random.Random, measure_from: float) -> None:
    import re

    def record(kind: str, began: float) -> None:
        # Samples from the warm-up (reviewers still logging in) are not counted.
        if began >= measure_from:
            out[kind].append(time.perf_counter() - began)

    await asyncio.sleep(rng.uniform(0, think_s))  # reviewers start their shifts staggered
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        page = await client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        answer = await client.post("/login", data={"username": name, "password": PASSWORD,
                                                   "csrf": csrf.group(1)})
        assert answer.status_code == 303, answer.status_code
        queue_page = await client.get("/queues")
        token = re.search(r'name="csrf" value="([^"]+)"', queue_page.text)
        assert token
        began = time.perf_counter()
        answer = await client.post("/next", data={"csrf": token.group(1)})
        out["first_next"].append(time.perf_counter() - began)  # every one: there are few
        location = answer.headers.get("location", "")
        while time.monotonic() < deadline and location.startswith("/cases/"):
            began = time.perf_counter()
            page = await client.get(location)
            record("case_page", began)
            claim = re.search(r'name="claim_id" value="(\w+)"', page.text)
            if claim is None:
                out["errors"].append(1.0)
                break
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))
            decision = rng.choice(["approve", "delete", "warn", "approve", "delete"])
            began = time.perf_counter()
            answer = await client.post(location + "/decide", data={
                "csrf": token.group(1), "claim_id": claim.group(1), "decision": decision})
            record("next", began)
            if answer.status_code != 303:
                out["errors"].append(1.0)
            location = answer.headers.get("location", "")


async def drive(base: str, reviewers: int, duration_s: float, think_s: float
                ) -> dict[str, list[float]]:
    """Run the simulated reviewers; returns latencies by kind."""
    out: dict[str, list[float]] = {"first_next": [], "case_page": [], "next": [], "errors": []}
    rng = random.Random(7)
    warmup_s = think_s * 2
    deadline = time.monotonic() + warmup_s + duration_s
    measure_from = time.perf_counter() + warmup_s
    await asyncio.gather(*(_reviewer(base, f"r{i:03d}", deadline, think_s, out,
                                     random.Random(rng.random()), measure_from)
                           for i in range(reviewers)))
    return out


#: Issue 13's goals at the first `--think-ms` (the reviewers' real pace): name, limit, unit.
GOALS = (("\"next case\" p99", "next_p99", 50.0, "<"), ("case page p95", "page_p95", 100.0, "<"),
         ("ingest", "ingest", 5000.0, ">="))


def status(measured: dict[str, dict[str, float]]) -> list[str]:
    """The goals of issue 13 against this run (the first think time of each store)."""
    stores = list(measured)
    lines = ["| goal | " + " | ".join(stores) + " |",
             "| --- |" + " ---: |" * len(stores)]
    for name, key, limit, op in GOALS:
        unit = "items/s" if key == "ingest" else "ms"
        cells = []
        for kind in stores:
            value = measured[kind][key]
            met = value < limit if op == "<" else value >= limit
            shown = f"{value:,.0f}" if key == "ingest" else f"{value:.1f}"
            cells.append(f"{shown} {unit}: {'met' if met else '**not met**'}")
        goal = f"{name} {op} {limit:,.0f} {unit}".replace(">=", "≥")
        lines.append(f"| {goal} | " + " | ".join(cells) + " |")
    return lines


def run_store(kind: str, args: argparse.Namespace, workdir: Path
              ) -> tuple[str, dict[str, float]]:
    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        url, schema = args.pg, f"bench_{uuid.uuid4().hex[:8]}"
    print(f"{kind}: loading {args.cases:,} cases", flush=True)
    rate, items = load(url, schema, args.cases, args.reviewers)
    ingest_load = machine_load()
    rows: list[str] = []
    goal: dict[str, float] = {}
    try:
        phases = [(beside, think_ms) for beside in args.ingest_beside
                  for think_ms in args.think_ms]
        for phase, (beside, think_ms) in enumerate(phases):
            lat, kept_up = _load_phase(kind, url, schema, args, workdir, phase, beside,
                                       think_ms)
            n, page = lat["next"], lat["case_page"]
            if not goal:
                goal = {"next_p99": _pct(n, .99), "page_p95": _pct(page, .95), "ingest": rate}
            rows.append(
                f"| {kind} | {args.cases:,} | {rate:,.0f} ({items:,} items; {ingest_load}) "
                f"| {think_ms / 1000:.0f} s | {_beside_label(beside)} | {kept_up} | "
                f"{len(n):,} ({len(n) / args.duration_s:.1f}/s) | "
                f"{_pct(n, .5):.1f} / {_pct(n, .95):.1f} / **{_pct(n, .99):.1f}** | "
                f"{_pct(lat['first_next'], .99):.1f} | {_pct(page, .5):.1f} / "
                f"**{_pct(page, .95):.1f}** / {_pct(page, .99):.1f} | "
                f"{len(lat['errors'])} | {machine_load()} |")
    finally:
        if schema:
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            engine.dispose()
    return "\n".join(rows), goal


def _beside_label(beside: int | None) -> str:
    if beside is None:
        return "none"
    return "one transaction per batch" if beside == 0 else f"slices of {beside}"


def _load_phase(kind: str, url: str, schema: str | None, args: argparse.Namespace,
                workdir: Path, phase: int, beside: int | None, think_ms: float
                ) -> tuple[dict[str, list[float]], str]:
    """One load of the reviewers on a console server started for it, with the ingest beside
    it in transactions of `beside` items (None: no ingest). Returns the latencies and the
    ingest's items per second over the load ('-' without one)."""
    port = 18000 + random.randint(0, 999)
    log = workdir / f"serve-{kind}.log"
    cmd = [sys.executable, "-m", "benchmarks.console", "--serve", url, "--port", str(port)]
    if schema:
        cmd += ["--schema", schema]
    ingest_log = workdir / f"ingest-{kind}-{phase}-{think_ms:.0f}.txt"
    if beside is not None:
        first = args.cases + phase * 10**8  # past the load's cases and every earlier phase's
        cmd += ["--ingest-from", str(first), "--ingest-batch", str(args.ingest_batch),
                "--ingest-log", str(ingest_log), "--ingest-slice", str(beside)]
    with open(log, "ab") as fh:
        server = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=fh)
    try:
        deadline = time.monotonic() + 60
        while http_status(f"http://127.0.0.1:{port}/login") != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"console did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        print(f"{kind}: {args.reviewers} reviewers thinking {think_ms / 1000:.0f}s, for "
              f"{args.duration_s:.0f}s; ingest beside: {_beside_label(beside)}", flush=True)
        before = _ingested(ingest_log)
        lat = asyncio.run(drive(f"http://127.0.0.1:{port}", args.reviewers, args.duration_s,
                                think_ms / 1000))
        after = _ingested(ingest_log)
    finally:
        server.terminate()
        server.wait(10)
    kept_up = "-"
    if after[1] > before[1]:
        kept_up = f"{(after[0] - before[0]) / (after[1] - before[1]):,.0f}"
    return lat, kept_up


def _ingested(log_path: Path) -> tuple[int, float]:
    """(items, seconds) the ingest beside the web app reported so far; (0, 0) without one."""
    try:
        items, seconds = log_path.read_text().split()
    except (OSError, ValueError):
        return 0, 0.0
    return int(items), float(seconds)


def _slices(value: str) -> list[int | None]:
    return [None if v == "none" else int(v) for v in value.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reviewers", type=int, default=200)
    parser.add_argument("--duration-s", type=float, default=60)
    parser.add_argument("--think-ms", default="20000,2000",
                        type=lambda v: [float(x) for x in v.split(",")],
                        help="mean time a reviewer reads a case before deciding; a comma list "
                             "runs one load per value (default: 20 s, a real pace, then 2 s)")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--pg", default=os.environ.get("MIMAMORI_TEST_PG", PG_DEFAULT))
    parser.add_argument("--ingest-beside", default="none", type=_slices,
                        help="a comma list, one load per value: 'none', or the console "
                             "process also ingests new cases flat out while the reviewers "
                             "work (a backlog drained after a restart), in SQLite "
                             "transactions of this many items (0: one per ingest call)")
    parser.add_argument("--ingest-batch", type=int, default=2000,
                        help="items per ingest call beside the load (default 2000, "
                             "worker.max_batch_records)")
    parser.add_argument("--ingest-slice", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print, do not record")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--ingest-from", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ingest-log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.schema, args.port, args.ingest_from, args.ingest_batch,
              args.ingest_log, args.ingest_slice)
        return
    rows = []
    measured: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="mimamori-console-bench-") as tmp:
        for kind in args.stores.split(","):
            table, measured[kind] = run_store(kind, args, Path(tmp))
            rows.append(table)
    beside = ""
    if args.ingest_beside != [None]:
        beside = (" --ingest-beside " + ",".join("none" if v is None else str(v)
                                                 for v in args.ingest_beside)
                  + f" --ingest-batch {args.ingest_batch}")
    command = (f"`.venv/bin/python -m benchmarks.console --cases {args.cases} --reviewers "
               f"{args.reviewers} --duration-s {args.duration_s:.0f} --think-ms "
               f"{','.join(f'{t:.0f}' for t in args.think_ms)}{beside}`")
    body = "\n".join([
        f"Command: {command}.", "",
        f"Machine: {machine()}. Console server (one uvicorn process), store, simulated "
        "reviewers and this script share it.", "",
        "Ingest: `Store.ingest` in batches of 5,000 review items (one transaction each; "
        "reports on one post in ten merge into its case). Load: each reviewer logs in, then "
        "loops: case page, think, decide (reviewers start staggered over one think time; the "
        "first two think times are warm-up, not counted); the decide request records the "
        "decision with its outbox and audit rows and claims the next case (\"next case\"). "
        "Latency in ms as the client saw it (p50 / p95 / p99).", "",
        "Machine load is the 1-minute load average and the CPU pressure (share of the last "
        "minute in which some task waited for a CPU, /proc/pressure/cpu) at the end of the "
        "phase: other work on the shared machine shows there.", "",
        "Ingest beside the load (`--ingest-beside`): the console process also ingests new "
        f"cases flat out, one `Store.ingest` per batch of {args.ingest_batch:,} items, as its "
        "own ingest does when it drains a backlog (after a restart or an outage); in one "
        "transaction per batch, or on SQLite in slices of so many items; 'kept up' is the items "
        "per second it wrote during the load. Each load starts a fresh console process on the "
        "same store.", "",
        "| store | cases | ingest items/s (machine load) | think | ingest beside | kept up, "
        "items/s | decisions (rate) | next case p50 / p95 / p99 | first POST /next p99 | "
        "case page p50 / p95 / p99 | errors | machine load |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows, "",
        f"Issue 13 at the reviewers' real pace ({args.think_ms[0] / 1000:.0f} s per case; "
        "the other think times are stress beyond the goal), ingest beside: "
        f"{_beside_label(args.ingest_beside[0])}, this run:", "",
        *status(measured)])
    title = "Patrol console: store, next case, case page"
    if beside:
        title = "Patrol console: decisions while the ingest drains a backlog"
    publish(title, body, write=not args.no_write)


if __name__ == "__main__":
    main()
