"""Alert and recording rules: promtool checks them and runs their unit tests
(tests/prometheus/*.test.yml); every alert is tested firing and silent, carries a severity and
a runbook section that exists; the unit tests fail when an alert is broken."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.prom import RULE_FILES, require

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL_TESTS = sorted((ROOT / "tests" / "prometheus").glob("*.test.yml"))
RUNBOOK = ROOT / "docs" / "runbook.md"


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require("promtool"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def alerts() -> list[dict[str, Any]]:
    found = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += [rule for rule in group["rules"] if "alert" in rule]
    return found


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", markdown, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


def test_rule_files_are_the_ones_prometheus_loads() -> None:
    assert [p.name for p in RULE_FILES] == ["alerts.rules.yml", "recording.rules.yml"]
    config = yaml.safe_load((ROOT / "config" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["prometheus/*.rules.yml"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["prometheus"]["volumes"]
    # Mounted next to prometheus.yml, so the relative glob resolves in the container too.
    assert "./config/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes
    assert "./config/prometheus:/etc/prometheus/prometheus:ro" in volumes


def test_promtool_check_config_and_rules() -> None:
    result = promtool("check", "config", "config/prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: a rule with a PromQL syntax error is refused."""
    bad = tmp_path / "bad.rules.yml"
    bad.write_text("groups:\n  - name: x\n    rules:\n"
                   "      - alert: Broken\n        expr: sum by (job (up)\n")
    result = promtool("check", "rules", str(bad))
    assert result.returncode != 0


def test_promtool_unit_tests_pass() -> None:
    assert len(PROMTOOL_TESTS) >= 4
    result = promtool("test", "rules", *(p.name for p in PROMTOOL_TESTS),
                      cwd=ROOT / "tests" / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_silent() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for path in PROMTOOL_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {rule["alert"] for rule in alerts()}
    assert len(names) == len(alerts()), "alert names must be unique"
    assert names - firing == set(), "alerts never shown firing"
    assert names - silent == set(), "alerts never shown silent"
    assert (firing | silent) - names == set(), "tests of alerts that do not exist"


def test_every_alert_has_a_severity_summary_and_runbook_section() -> None:
    sections = anchors(RUNBOOK.read_text())
    for rule in alerts():
        name = rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"], name
        path, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert path == "docs/runbook.md", name
        assert anchor == name.lower(), name
        assert anchor in sections, f"{name}: no runbook section"
    # Each section says what it means, how to confirm and what to do.
    body = RUNBOOK.read_text()
    for rule in alerts():
        section = body.split(f"## {rule['alert']}\n", 1)[1].split("\n## ", 1)[0]
        for part in ("**What it means.**", "**How to confirm.**", "**What to do.**"):
            assert part in section, f"{rule['alert']}: {part} missing"


@pytest.mark.parametrize("mutation", ["always", "never"])
def test_unit_tests_catch_a_broken_alert(tmp_path: Path, mutation: str) -> None:
    """Replace every alert's expression by one that always (or never) holds, one alert at a
    time: its promtool tests must fail. This shows each alert's tests can fail."""
    shutil.copytree(ROOT / "config" / "prometheus", tmp_path / "config" / "prometheus")
    shutil.copytree(ROOT / "tests" / "prometheus", tmp_path / "tests" / "prometheus")
    alerts_file = tmp_path / "config" / "prometheus" / "alerts.rules.yml"
    original = yaml.safe_load(alerts_file.read_text())
    replacement = "vector(1)" if mutation == "always" else "vector(1) > 2"
    tests_of: dict[str, list[str]] = {}
    for path in PROMTOOL_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                tests_of.setdefault(check["alertname"], [])
                if path.name not in tests_of[check["alertname"]]:
                    tests_of[check["alertname"]].append(path.name)
    survived = []
    for rule in alerts():
        mutated = yaml.safe_load(yaml.safe_dump(original))
        for group in mutated["groups"]:
            for r in group["rules"]:
                if r.get("alert") == rule["alert"]:
                    r["expr"] = replacement
        alerts_file.write_text(yaml.safe_dump(mutated))
        result = promtool("test", "rules", *tests_of[rule["alert"]],
                          cwd=tmp_path / "tests" / "prometheus")
        if result.returncode == 0:
            survived.append(rule["alert"])
    assert survived == []


def test_readme_alert_table_lists_every_alert_with_its_runbook_link() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("**Alerts.**", 1)[1].split("**How they are tested.**", 1)[0]
    listed = re.findall(r"^\| \[`(\w+)`\]\(docs/runbook\.md#(\w+)\) \| (\w+) \|", table,
                        re.MULTILINE)
    assert listed == [(r["alert"], r["alert"].lower(), r["labels"]["severity"])
                      for r in alerts()]
