"""The Grafana dashboards: generated from code and committed in step, provisioned with fixed
uids against the provisioned datasource, every query valid PromQL naming metrics that exist."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from pipeline.telemetry import dashboards
from pipeline.telemetry.metrics import Metrics
from tests.prom import RULE_FILES, require

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "config" / "grafana" / "dashboards"

# Metrics announced for the enforcer and the patrol console (issue 14), checked here by name
# until those services are on main; the integration test then queries them for real.
ANNOUNCED = {
    "mimamori_enforcer_actions_total", "mimamori_enforcer_strikes_total",
    "mimamori_enforcer_ladder_transitions_total", "mimamori_enforcer_overturns_total",
    "mimamori_enforcer_replays_skipped_total", "mimamori_enforcer_restore_seconds_bucket",
    "mimamori_enforcer_ledger_users",
    "mimamori_console_queue_depth", "mimamori_console_queue_oldest_age_seconds",
    "mimamori_console_queue_sla_seconds", "mimamori_console_decisions_total",
    "mimamori_console_decision_seconds_bucket", "mimamori_console_leases_lapsed_total",
    "mimamori_console_outbox_backlog", "mimamori_console_outbox_oldest_age_seconds",
    "mimamori_console_active_reviewers",
}
PROMETHEUS_OWN = {"up", "ALERTS"}
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_KEYWORDS = {"and", "or", "unless", "offset", "bool", "by", "without", "on", "ignoring",
             "group_left", "group_right", "inf", "nan"}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DASHBOARD_DIR / name).read_text())
    return data


def all_dashboards() -> dict[str, dict[str, Any]]:
    return {name: load(name) for name in sorted(dashboards.DASHBOARDS)}


def exprs(dashboard: dict[str, Any]) -> list[str]:
    out = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    out += [a["expr"] for a in dashboard["annotations"]["list"] if "expr" in a]
    return out


def metric_names(expr: str) -> set[str]:
    """Series names a PromQL expression selects (strings, label matchers, ranges and
    grouping clauses removed; a name followed by `(` is a function)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = _GROUPING.sub("", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][\w:]*", text):
        rest = text[match.end():].lstrip()
        if rest.startswith("(") or match.group().lower() in _KEYWORDS:
            continue
        names.add(match.group())
    return names


def recorded() -> set[str]:
    names = set()
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            names |= {r["record"] for r in group["rules"] if "record" in r}
    return names


def test_committed_dashboards_are_what_the_code_generates() -> None:
    generated = dashboards.render()
    assert sorted(generated) == sorted(p.name for p in DASHBOARD_DIR.glob("*.json"))
    for name, text in generated.items():
        assert (DASHBOARD_DIR / name).read_text() == text, (
            f"{name} is stale: run .venv/bin/python -m pipeline.telemetry.dashboards")


def test_fixed_uids_provisioned_datasource_and_no_inputs() -> None:
    provisioned = yaml.safe_load(
        (ROOT / "config/grafana/provisioning/datasources/prometheus.yml").read_text())
    [datasource] = provisioned["datasources"]
    assert datasource["uid"] == "mimamori-prometheus"
    uids = {}
    for name, dashboard in all_dashboards().items():
        assert "__inputs" not in dashboard, name
        assert "__requires" not in dashboard, name
        uids[name] = dashboard["uid"]
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), name
        for p in dashboard["panels"]:
            pos = p["gridPos"]
            assert pos["x"] + pos["w"] <= 24, (name, p["title"])
            if p["type"] == "row":
                continue
            assert p["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}
            assert p["targets"], (name, p["title"])
            assert p["description"], (name, p["title"])
            for target in p["targets"]:
                assert target["datasource"]["uid"] == datasource["uid"]
                assert target["refId"], (name, p["title"])
        for annotation in dashboard["annotations"]["list"]:
            assert annotation["datasource"]["uid"] == datasource["uid"]
    assert uids == {"mimamori-sre.json": "mimamori-sre",
                    "mimamori-patrol.json": "mimamori-patrol",
                    "mimamori-operators.json": "mimamori-operators"}


def test_grafana_provisions_the_dashboard_directory() -> None:
    provider = yaml.safe_load(
        (ROOT / "config/grafana/provisioning/dashboards/mimamori.yml").read_text())
    [entry] = provider["providers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["grafana"]["volumes"]
    assert f"./config/grafana/dashboards:{entry['options']['path']}:ro" in volumes


def test_every_query_parses_in_promtool(tmp_path: Path) -> None:
    """promtool has no expression checker: each query becomes a recording rule, and
    `promtool check rules` parses them all."""
    queries = [e for d in all_dashboards().values() for e in exprs(d)]
    assert len(queries) > 50
    rules = {"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard_query_{i}", "expr": e} for i, e in enumerate(queries)]}]}
    path = tmp_path / "queries.rules.yml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run([require("promtool"), "check", "rules", str(path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_metric_names_are_extracted_as_promql_reads_them() -> None:
    """The extraction below must find names and only names: hand-picked expressions."""
    assert metric_names(
        'sum by (instance) (rate(mimamori_process_cpu_seconds_total{job="x"}[5m]))') == {
        "mimamori_process_cpu_seconds_total"}
    assert metric_names("a:b:c / on (job, queue) d_e > 0.5 and time() - f") == {
        "a:b:c", "d_e", "f"}
    assert metric_names('histogram_quantile(0.9, sum by (le) (rate(h_bucket[30m])))') == {
        "h_bucket"}


def exported_names() -> set[str]:
    """Every series name the filter's registry can export, touched yet or not."""
    suffixes = {"counter": ["_total"], "gauge": [""], "info": ["_info"],
                "histogram": ["_bucket", "_sum", "_count"]}
    return {f.name + suffix for f in Metrics().registry.collect()
            for suffix in suffixes[f.type]}


def test_every_query_names_metrics_that_exist() -> None:
    known = exported_names() | recorded() | ANNOUNCED | PROMETHEUS_OWN
    for name, dashboard in all_dashboards().items():
        for expr in exprs(dashboard):
            names = metric_names(expr)
            assert names, (name, expr)
            assert names <= known, (name, expr, names - known)


def test_every_filter_metric_is_on_a_dashboard() -> None:
    """Directly or through the recording rule a panel reads."""
    rule_inputs = {r["record"]: metric_names(r["expr"]) for path in RULE_FILES
                   for g in yaml.safe_load(path.read_text())["groups"]
                   for r in g["rules"] if "record" in r}
    shown = set()
    for dashboard in all_dashboards().values():
        for expr in exprs(dashboard):
            for n in metric_names(expr):
                shown |= {n} | rule_inputs.get(n, set())
                for m in rule_inputs.get(n, set()):
                    shown |= rule_inputs.get(m, set())
    not_plotted = {  # deliberately: diagnostics, not something to watch
        "mimamori_build", "mimamori_in_flight_records", "mimamori_batch_records",
        "mimamori_wordlist_load_seconds", "mimamori_process_virtual_memory_bytes",
        "mimamori_process_start_time_seconds", "mimamori_process_max_fds",
    }
    missing = []
    for family in Metrics().registry.collect():
        if family.name in not_plotted:
            continue
        if not any(s.name in shown for s in family.samples) and not any(
                n.startswith(family.name) for n in shown):
            missing.append(family.name)
    assert missing == []


def test_every_recording_rule_is_used_by_an_alert_or_a_panel() -> None:
    alert_exprs = [r["expr"] for path in RULE_FILES
                   for g in yaml.safe_load(path.read_text())["groups"]
                   for r in g["rules"] if "alert" in r]
    rule_exprs = [r["expr"] for path in RULE_FILES
                  for g in yaml.safe_load(path.read_text())["groups"]
                  for r in g["rules"] if "record" in r]
    panel_exprs = [e for d in all_dashboards().values() for e in exprs(d)]
    users = alert_exprs + rule_exprs + panel_exprs
    for name in recorded():
        assert any(name in metric_names(e) for e in users), name
