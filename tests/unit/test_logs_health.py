"""Rate-limited aiokafka logging and the broker health state."""

from __future__ import annotations

import logging

import pytest

from pipeline.kafka.health import BrokerHealth
from pipeline.telemetry.logs import RateLimit
from pipeline.telemetry.metrics import Metrics


def record(msg: str) -> logging.LogRecord:
    return logging.LogRecord("aiokafka", logging.ERROR, __file__, 1, msg, None, None)


def test_rate_limit_passes_one_of_a_burst_and_counts_the_rest() -> None:
    limit = RateLimit(interval_s=3600)
    results = [limit.filter(record("Unable connect to node %s")) for _ in range(50)]
    assert results.count(True) == 1
    assert limit.filter(record("another message"))
    limit = RateLimit(interval_s=0)
    limit.filter(record("x"))
    assert limit.filter(record("x"))


def connected(metrics: Metrics) -> float | None:
    return metrics.registry.get_sample_value("mimamori_broker_connected", {"service": "filter"})


def test_health_reports_once_and_backs_off(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    health = BrokerHealth(metrics.loop.bind("filter"), base_backoff_s=0.1, max_backoff_s=1.0,
                          log_every_s=3600)
    assert connected(metrics) == 1
    with caplog.at_level(logging.INFO, logger="pipeline.kafka.health"):
        waits = [health.failed("fetch", OSError("refused")) for _ in range(8)]
        assert not health.connected
        assert health.describe().startswith("broker unreachable for ")
        assert connected(metrics) == 0
        health.ok()
    assert waits == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("broker unreachable (fetch: refused)")
    assert messages[1].startswith("broker reachable again after")
    assert health.connected
    assert connected(metrics) == 1
