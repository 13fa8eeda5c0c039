"""docker-compose.yml and Prometheus files stay true to the code (dashboards:
test_dashboards.py; rules: test_prometheus_rules.py)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pipeline.config import load_config
from pipeline.telemetry import dashboards

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
    for name in ("worker", "topic-init", "enforcer", "console"):
        env = services[name]["environment"]
        assert isinstance(env, dict)
        config = load_config(environ={str(k): str(v) for k, v in env.items()})
        assert config.kafka.bootstrap_servers == "kafka:9092"
        assert config.metrics.port == 9464
    console = config.console  # the last one loaded
    assert console.host == "0.0.0.0"  # inside the compose network; published on loopback
    assert console.store_url.startswith("postgresql://mimamori:${POSTGRES_PASSWORD")
    assert services["console"]["ports"] == ["127.0.0.1:8080:8080"]


def test_prometheus_scrapes_every_long_running_service_under_its_job_name() -> None:
    """The alerts and dashboards select on these job names (pipeline/telemetry/dashboards.py)."""
    prom = yaml.safe_load((ROOT / "config" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job["dns_sd_configs"][0] for job in prom["scrape_configs"]}
    job_of = {"run": dashboards.FILTER_JOB, "enforce": dashboards.ENFORCER_JOB,
              "console": dashboards.CONSOLE_JOB}
    expected = {}
    for name, service in compose()["services"].items():
        command = service.get("command")
        if isinstance(command, list) and command[0] in job_of:
            env = service["environment"]
            assert isinstance(env, dict)
            expected[job_of[command[0]]] = {"names": [name], "type": "A",
                                            "port": int(env["MIMAMORI_METRICS_PORT"]),
                                            "refresh_interval": "15s"}
    assert "mimamori-worker" in expected
    assert "mimamori-enforcer" in expected
    assert "mimamori-console" in expected
    assert jobs == expected
