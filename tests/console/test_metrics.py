"""The console's gauges as the refresher sets them: queue depth, oldest age and SLA per queue,
lapsed leases, outbox backlog, active reviewers; no label names a user, post or word."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from pipeline.config import Config
from pipeline.console.cases import DecisionInput
from pipeline.console.service import ConsoleService
from pipeline.console.store import Store
from tests.console.conftest import Clock, add_user, item


@pytest.mark.asyncio
async def test_refresh_sets_the_gauges(store: Store, clock: Clock) -> None:
    store.ingest([item("p1", priority=90, queue="urgent", created_at="2026-11-23T10:00:00Z"),
                  item("p2", created_at="2026-11-23T11:00:00Z"),
                  item("p3", created_at="2026-11-23T12:00:00Z")])
    clock.now = 1795435200.0 + 100  # 2026-11-23T12:00:00Z + 100 s
    alice = add_user(store, "alice")
    held, _ = store.claim_next(alice)
    assert held is not None
    service = ConsoleService(Config(), CollectorRegistry())
    service.store = store
    await service.refresh_once()
    r = service.metrics.registry
    assert r.get_sample_value("mimamori_console_queue_depth", {"queue": "urgent"}) == 1
    assert r.get_sample_value("mimamori_console_queue_depth", {"queue": "standard"}) == 2
    assert r.get_sample_value("mimamori_console_queue_depth", {"queue": "reports"}) == 0
    assert r.get_sample_value("mimamori_console_queue_oldest_age_seconds",
                              {"queue": "standard"}) == 3600 + 100
    assert r.get_sample_value("mimamori_console_queue_oldest_age_seconds",
                              {"queue": "reports"}) == 0
    assert r.get_sample_value("mimamori_console_queue_sla_seconds", {"queue": "urgent"}) == 900
    assert r.get_sample_value("mimamori_console_active_reviewers") == 1
    assert r.get_sample_value("mimamori_console_leases_lapsed_total") == 0
    store.decide(alice, held.case_id, held.claim_id, DecisionInput("delete", None, ""), "t")
    held, _ = store.claim_next(alice)
    assert held is not None
    clock.now += 601
    await service.refresh_once()
    assert r.get_sample_value("mimamori_console_leases_lapsed_total") == 1
    assert r.get_sample_value("mimamori_console_active_reviewers") == 0
    assert r.get_sample_value("mimamori_console_outbox_backlog") == 1
    assert r.get_sample_value("mimamori_console_outbox_oldest_age_seconds") == 601
    exposition = generate_latest(r).decode()
    for private in ("alice", "p1", "site-a", "しね"):
        assert private not in exposition
