"""Dashboards and alerts against a real Prometheus (Debian's binary) scraping a real filter
worker and a real enforcer on the embedded broker while posts arrive: every panel query and
every recording rule returns data, every alert expression evaluates without error, and the
stalled-worker alert fires when the worker is frozen with SIGSTOP while posts keep arriving.

Queries that read the console's metrics (`needs`) are checked once it runs here; until then
they are listed as skipped, and the test fails if its package exists but its queries are still
skipped."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.telemetry import dashboards
from tests.integration.conftest import fresh_config
from tests.integration.helpers import http_get
from tests.observed import (
    CONSOLE_JOB,
    ENFORCER_JOB,
    FILTER_JOB,
    Observed,
    observed_pipeline,
)
from tests.prom import RULE_FILES, require

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# The services this test runs: every one.
RUNNING = {"filter", "enforcer", "console"}


def needs(expr: str) -> str:
    """The service whose metrics a query reads."""
    if "mimamori_enforcer_" in expr or f'job="{dashboards.ENFORCER_JOB}"' in expr:
        return "enforcer"
    if "mimamori_console_" in expr or f'job="{dashboards.CONSOLE_JOB}"' in expr:
        return "console"
    return "filter"


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expr) of every target of every committed dashboard."""
    out = []
    for name in sorted(dashboards.DASHBOARDS):
        board = json.loads((ROOT / "config/grafana/dashboards" / name).read_text())
        for panel in board["panels"]:
            out += [(name, panel["title"], t["expr"]) for t in panel.get("targets", [])]
    return out


def rules() -> list[dict[str, Any]]:
    return [r for path in RULE_FILES for g in yaml.safe_load(path.read_text())["groups"]
            for r in g["rules"]]


def wait_all_have_data(observed: Observed, exprs: list[str], timeout_s: float) -> None:
    """Poll until every expression returns at least one sample; name the ones that never
    did."""
    pending = list(dict.fromkeys(exprs))
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        pending = [e for e in pending if not observed.prometheus.query(e)]
        if pending:
            time.sleep(1)
    assert pending == [], "queries without data"


def firing_named(observed: Observed, alertname: str) -> list[dict[str, str]]:
    return [a["labels"] for a in observed.firing() if a["labels"]["alertname"] == alertname]


@pytest.mark.timeout(420)
def test_panels_rules_and_the_stalled_worker_alert_on_real_prometheus(
    broker: EmbeddedBroker, tmp_path: Path,
) -> None:
    require("prometheus")
    base = fresh_config(broker.bootstrap_servers, max_batch_records=200)
    with observed_pipeline(base, tmp_path, workers=1, enforcers=1, console=True) as observed:
        [worker] = observed.processes[FILTER_JOB]
        [port] = observed.metrics_ports[FILTER_JOB]
        instance = f"127.0.0.1:{port}"
        observed.wait_for(f'up{{job="{FILTER_JOB}", instance="{instance}"}} == 1')
        observed.wait_for(f'up{{job="{ENFORCER_JOB}"}} == 1')
        observed.wait_for(f'up{{job="{CONSOLE_JOB}"}} == 1')
        deadline = time.monotonic() + 60  # ready once it joined the group
        while http_get(f"http://{instance}/ready")[0] != 200:
            assert time.monotonic() < deadline, http_get(f"http://{instance}/ready")
            time.sleep(0.2)

        # A chief decides a few cases at the console, as in a browser; the decisions go out
        # through the outbox to the enforcer.
        observed.wait_for('sum(mimamori_console_queue_depth) >= 5', timeout_s=90)
        patrol = observed.patrol()
        assert patrol.decide_next(["delete", "approve", "warn", "delete", "approve"]) == 5

        # A list that breaks on disk: the worker keeps its lists and reports the failure
        # (the reload panel's "failed" series and the reload alert read it).
        with (observed.wordlists / "ja.tsv").open("a", encoding="utf-8") as fh:
            fh.write("壊れた行\tnot-a-mode\tabuse\n")

        # 1. Every panel query whose service runs here returns data.
        queries = panel_queries()
        checked = [e for _, _, e in queries if needs(e) in RUNNING]
        skipped: dict[str, list[str]] = {}
        for name, title, expr in queries:
            if needs(expr) not in RUNNING:
                skipped.setdefault(needs(expr), []).append(f"{name}: {title}")
        wait_all_have_data(observed, checked, timeout_s=90)
        assert skipped == {}
        assert len(checked) >= 25

        # Hand-checked values: the flow the feeder drives is visible as such.
        posts = base.topics.posts
        lag = observed.wait_for(
            'count(job_service_topic_partition:mimamori_consumer_lag_records:max'
            f'{{topic="{posts}"}}) == 4')
        assert lag[0]["value"][1] == "4"  # fresh_config's four partitions
        for expr in (
            f'job_service_topic:mimamori_records_consumed:rate5m{{topic="{posts}"}} > 0',
            'job_service_outcome:mimamori_verdicts:rate5m{outcome="ng"} > 0',
            'job_service_reason:mimamori_dlq_records:rate5m{reason="invalid_json"} > 0',
            'job_service_result:mimamori_offset_commits:rate5m{result="ok"} > 0',
            f'mimamori_process_resident_memory_bytes{{job="{FILTER_JOB}"}} > 20e6',
            'mimamori_wordlist_reload_failed_timestamp_seconds'
            ' > mimamori_wordlist_loaded_timestamp_seconds',
            # The enforcer consumes the filter's violations and keeps ledgers.
            'job_service_topic:mimamori_records_consumed:rate5m{service="enforcer"} > 0',
            'sum(rate(mimamori_enforcer_strikes_total[5m])) > 0',
            'sum(mimamori_enforcer_ledger_users) > 0',
            f'mimamori_process_resident_memory_bytes{{job="{ENFORCER_JOB}"}} > 20e6',
            # The console ingests review items and counts the chief's decisions.
            'job_service_topic:mimamori_records_consumed:rate5m{service="console"} > 0',
            'sum(mimamori_console_decisions_total{role="chief"}) == 5',
            'sum(mimamori_console_decisions_total{decision="approve"}) == 2',
            'mimamori_console_decision_seconds_count == 5',
            'mimamori_console_queue_sla_seconds{queue="urgent"} > 0',
            f'mimamori_process_resident_memory_bytes{{job="{CONSOLE_JOB}"}} > 20e6',
        ):
            observed.wait_for(expr, timeout_s=30)

        # 2. Recording rules produce series; every rule and alert evaluates without error.
        recorded = [r["record"] for r in rules()
                    if "record" in r and needs(r["expr"]) in RUNNING]
        wait_all_have_data(observed, recorded, timeout_s=30)
        for rule in rules():
            observed.prometheus.query(rule["expr"])  # raises on an evaluation error
        groups = observed.prometheus.api("rules")["groups"]
        unhealthy = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"]
                     if r["health"] != "ok"]
        assert unhealthy == []
        assert sum(len(g["rules"]) for g in groups) == len(rules())

        # 3. Freeze the worker while posts keep arriving: the stalled-worker alert fires
        #    once its `for: 1m` has passed (the rules are the shipped ones, unshortened).
        assert firing_named(observed, "MimamoriWorkerStalled") == []
        produced_before = observed.feeder.produced
        worker.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + 150
        stalled: list[dict[str, str]] = []
        while not stalled and time.monotonic() < deadline:
            stalled = firing_named(observed, "MimamoriWorkerStalled")
            time.sleep(1)
        assert stalled == [{"alertname": "MimamoriWorkerStalled", "cause": "not_scraped",
                            "instance": instance, "job": FILTER_JOB,
                            "severity": "critical"}]
        assert observed.feeder.produced > produced_before  # posts kept arriving
        assert firing_named(observed, "MimamoriNoFilterWorker") == [
            {"alertname": "MimamoriNoFilterWorker", "job": FILTER_JOB,
             "severity": "critical"}]
        # The dashboards' alert annotation now has something to mark.
        [annotation] = {e for d in dashboards.DASHBOARDS
                        for e in [a["expr"] for a in json.loads(
                            (ROOT / "config/grafana/dashboards" / d).read_text())
                            ["annotations"]["list"]]}
        assert observed.prometheus.query(annotation)

        # 4. Resumed, it answers again and the alert clears.
        worker.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 60
        while firing_named(observed, "MimamoriWorkerStalled") and time.monotonic() < deadline:
            time.sleep(1)
        assert firing_named(observed, "MimamoriWorkerStalled") == []
    print("skipped until their services run here:", json.dumps(skipped, indent=1))
