"""docker-compose.yml, Prometheus and Grafana files stay true to the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from pipeline.config import load_config
from pipeline.telemetry.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, dict[str, dict[str, object]]]:
    data: dict[str, dict[str, dict[str, object]]] = yaml.safe_load(
        (ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_services_and_pinned_images() -> None:
    services = compose()["services"]
    assert {"kafka", "topic-init", "worker", "enforcer", "prometheus", "grafana"} <= set(services)
    for name, service in services.items():
        image = service.get("image")
        if image is not None:
            assert isinstance(image, str)
            assert re.search(r":v?\d", image), f"{name}: image {image} is not pinned to a version"
    assert services["kafka"]["image"] == "apache/kafka:3.9.1"


def test_compose_worker_environment_is_valid_configuration() -> None:
    services = compose()["services"]
    for name in ("worker", "topic-init", "enforcer"):
        env = services[name]["environment"]
        assert isinstance(env, dict)
        config = load_config(environ={str(k): str(v) for k, v in env.items()})
        assert config.kafka.bootstrap_servers == "kafka:9092"
        assert config.metrics.port == 9464


def test_prometheus_scrapes_the_worker_metrics_port() -> None:
    prom = yaml.safe_load((ROOT / "config" / "prometheus.yml").read_text())
    [job] = prom["scrape_configs"]
    assert job["dns_sd_configs"][0]["port"] == 9464


def test_dashboard_queries_only_metrics_that_exist() -> None:
    registry = Metrics().registry
    known = set()
    for family in registry.collect():
        for sample in family.samples:
            known.add(sample.name)
    dashboard = json.loads(
        (ROOT / "config" / "grafana" / "dashboards" / "mimamori-overview.json").read_text())
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used.update(re.findall(r"mimamori_[a-z_]+", target["expr"]))
    assert used
    # Counters, histograms and labelled gauges only show samples once touched; compare names
    # against every family's possible sample names.
    possible = set(known)
    for family in registry.collect():
        base = family.name
        possible.update({base, f"{base}_total", f"{base}_bucket", f"{base}_sum",
                         f"{base}_count"})
    assert used <= possible, used - possible
