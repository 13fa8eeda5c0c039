"""A running pipeline under a real Prometheus, for the observability test and the dashboard
pictures (tests/render_dashboards.py): filter workers and enforcers as real processes on a
broker, fed with sample posts by a background thread, scraped by Debian's Prometheus evaluating
the repository's rules under the job names of config/prometheus.yml."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from pipeline.config import Config, to_environment
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.topicio import produce
from pipeline.tools.sample import SampleRecord, generate
from tests.processes import spawn
from tests.prom import RULE_FILES, PrometheusServer, free_port

ROOT = Path(__file__).resolve().parents[1]
FILTER_JOB = "mimamori-worker"
ENFORCER_JOB = "mimamori-enforcer"
CONSOLE_JOB = "mimamori-console"
CHIEF, CHIEF_PASSWORD = "chief1", "observability test password"


def fresh(record: SampleRecord, now: str) -> bytes:
    """The record's bytes with `created_at` set to now (the sample's dates are fixed, and the
    console measures a case's age from its post's), malformed records untouched."""
    if record.kind not in ("clean", "hit", "report"):
        return record.value
    message = msgspec.json.decode(record.value)
    message["created_at"] = now
    return msgspec.json.encode(message)


class Feeder:
    """Produces sample posts (hits, reports and malformed records included) in rounds of
    `per_round` records (changeable while it runs) until stopped, from a thread with its own
    event loop."""

    def __init__(self, config: Config, per_round: int = 300, pause_s: float = 0.5) -> None:
        self._config = config
        self.per_round = per_round
        self._pause_s = pause_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feeder", daemon=True)
        self.produced = 0
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            asyncio.run(self._feed())
        except BaseException as exc:  # reported by stop()
            self.error = exc

    async def _feed(self) -> None:
        topics = {"posts": self._config.topics.posts, "reports": self._config.topics.reports}
        round_no = 0
        while not self._stop.is_set():
            # Repeat offenders walk the enforcer's ladder (strikes, warn, suspend, expel).
            records = generate(self.per_round, seed=round_no, hit_ratio=0.08,
                               report_ratio=0.05, malformed=round_no % 4 == 0, offenders=5)
            now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
            await produce(self._config.kafka.bootstrap_servers,
                          [(topics[r.topic_kind], r.key, fresh(r, now)) for r in records])
            self.produced += len(records)
            round_no += 1
            await asyncio.to_thread(self._stop.wait, self._pause_s)


@dataclass
class Observed:
    """The running pieces. `processes` and `metrics_ports` map a scrape job to its processes
    and their metrics ports, in the same order."""

    config: Config
    prometheus: PrometheusServer
    feeder: Feeder
    wordlists: Path
    processes: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)
    metrics_ports: dict[str, list[int]] = field(default_factory=dict)

    def patrol(self) -> PatrolClient:
        """A reviewer's browser on the console (`console=True`), logged in as the chief."""
        client = PatrolClient(f"http://127.0.0.1:{self.config.console.port}")
        client.login()
        return client

    def wait_for(self, expr: str, timeout_s: float = 60) -> list[dict[str, Any]]:
        """Poll an instant query until it returns a sample."""
        deadline = time.monotonic() + timeout_s
        while True:
            result = self.prometheus.query(expr)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"no data for {expr} within {timeout_s}s")
            time.sleep(0.5)

    def firing(self) -> list[dict[str, Any]]:
        """Alerts Prometheus has firing now."""
        alerts: list[dict[str, Any]] = self.prometheus.api("alerts")["alerts"]
        return [a for a in alerts if a["state"] == "firing"]


def worker_config(base: Config, wordlists: Path, metrics_port: int) -> Config:
    """A process's configuration: its own metrics port, lists reloaded every 0.5 s."""
    return msgspec.structs.replace(
        base,
        wordlists=msgspec.structs.replace(base.wordlists, dir=str(wordlists),
                                          reload_interval_ms=500),
        metrics=msgspec.structs.replace(base.metrics, host="127.0.0.1", port=metrics_port),
    )


def console_config(base: Config, workdir: Path, http_port: int) -> Config:
    """The console's configuration: a SQLite store in `workdir`, its own web port and ingest
    group, gauges refreshed every 0.5 s."""
    return msgspec.structs.replace(base, console=msgspec.structs.replace(
        base.console, store_url=f"sqlite:///{workdir / 'console.db'}", port=http_port,
        group_id=base.kafka.group_id + ".console", refresh_interval_ms=500))


def add_chief(config: Config) -> None:
    """`mimamori users add` a chief for every site into the console's store (password on
    standard input)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    subprocess.run([sys.executable, "-m", "pipeline", "users", "add", CHIEF, "--role", "chief",
                    "--sites", "*", "--password-stdin"], input=CHIEF_PASSWORD + "\n",
                   text=True, check=True, cwd=ROOT, env=env | to_environment(config),
                   capture_output=True, timeout=60)


class PatrolClient:
    """A reviewer at the console, through its web pages as a browser would submit them
    (session and CSRF cookies, the forms' hidden fields)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def _open(self, path: str, form: dict[str, str] | None = None) -> tuple[str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        with self._opener.open(self.url + path, data=data, timeout=10) as response:
            return response.geturl(), response.read().decode()

    @staticmethod
    def _field(html: str, name: str) -> str:
        found = re.search(rf'name="{name}" value="([^"]+)"', html)
        assert found, f"no {name} field on the page"
        return found.group(1)

    def login(self, username: str = CHIEF, password: str = CHIEF_PASSWORD) -> None:
        _, page = self._open("/login")
        self._open("/login", {"username": username, "password": password,
                              "csrf": self._field(page, "csrf")})

    def decide_next(self, decisions: list[str]) -> int:
        """Claim the next case and decide it, once per entry of `decisions` (fewer when the
        queues run dry); returns how many were decided."""
        _, queues = self._open("/queues")
        url, page = self._open("/next", {"csrf": self._field(queues, "csrf")})
        done = 0
        for decision in decisions:
            path = urllib.parse.urlsplit(url).path
            if not path.startswith("/cases/"):
                break
            url, page = self._open(f"{path}/decide", {
                "csrf": self._field(page, "csrf"), "claim_id": self._field(page, "claim_id"),
                "decision": decision, "note": ""})
            done += 1
        return done


@contextlib.contextmanager
def observed_pipeline(base: Config, workdir: Path, workers: int = 1, enforcers: int = 0,
                      console: bool = False, interval_s: float = 1.0) -> Iterator[Observed]:
    """Filter workers (and enforcers, and a patrol console with one chief account) on
    `base`'s broker and topics, fed with posts and scraped by a real Prometheus that evaluates
    config/prometheus/*.rules.yml every `interval_s`. Everything is stopped on exit."""
    asyncio.run(ensure_topics(base))
    wordlists = workdir / "wordlists"
    shutil.copytree(ROOT / "wordlists", wordlists)
    commands = {FILTER_JOB: (["pipeline", "run"], workers),
                ENFORCER_JOB: (["pipeline", "enforce"], enforcers),
                CONSOLE_JOB: (["pipeline", "console"], int(console))}
    if console:
        base = console_config(base, workdir, free_port())
        add_chief(base)
    ports = {job: [free_port() for _ in range(n)] for job, (_, n) in commands.items() if n}
    prometheus = PrometheusServer(
        workdir, [{"job_name": job,
                   "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in job_ports]}]}
                  for job, job_ports in ports.items()],
        RULE_FILES, interval_s=interval_s)
    observed = Observed(base, prometheus, Feeder(base), wordlists, metrics_ports=ports)
    try:
        for job, job_ports in ports.items():
            args = commands[job][0]
            observed.processes[job] = [
                spawn(args, worker_config(base, wordlists, port),
                      workdir / f"{args[-1]}{index}.log")
                for index, port in enumerate(job_ports)]
        prometheus.start()
        observed.feeder.start()
        yield observed
    finally:
        with contextlib.suppress(Exception):
            observed.feeder.stop()
        everything = [p for group in observed.processes.values() for p in group]
        for process in everything:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGCONT)  # a stopped process must be able to exit
                process.terminate()
        for process in everything:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        prometheus.stop()
