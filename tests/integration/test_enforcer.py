"""The enforcer on the embedded broker: the ladder walked in order, overturns, kill -9 and
rebalances that lose or double nothing.

Expected actions are written by hand: which rung each event reaches under the default ladder
(warn at weight 2, suspend-1d at 4, suspend-7d at 6, expel at 9; abuse weighs 1, crime 3), and
their ids from the documented formulas (README, "Enforcement").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from prometheus_client import CollectorRegistry

from pipeline.config import Config
from pipeline.contract.ids import stable_id, user_key
from pipeline.contract.messages import Action, Decision, Violation, encoder
from pipeline.enforcer.commands import read_history
from pipeline.enforcer.ledger import Ledger, decode_ledger
from pipeline.enforcer.service import run_enforcer
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.kafka.topicio import produce, read_all, wait_committed
from tests.integration.conftest import fresh_config

pytestmark = [pytest.mark.integration, pytest.mark.asyncio, pytest.mark.timeout(300)]

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def violation(site: str, user: str, post: str, seconds: float,
              category: str = "abuse") -> Violation:
    return Violation(violation_id=stable_id("violation", site, post), site_id=site,
                     user_id=user, post_id=post, categories=[category], terms=["t"],
                     source="filter", created_at=at(seconds), detected_at=at(seconds))


def decision(site: str, user: str, ident: str, kind: str, seconds: float, *,
             role: str = "lead", post: str | None = None, overturns: str | None = None,
             duration_s: int | None = None) -> Decision:
    return Decision(decision_id=ident, item_id=f"item-{ident}", site_id=site, user_id=user,
                    post_id=post, decision=kind, duration_s=duration_s,  # type: ignore[arg-type]
                    note="", reviewer="lead-1", role=role, overturns=overturns,  # type: ignore[arg-type]
                    decided_at=at(seconds))


def escalation_id(site: str, user: str, event_id: str, rung: str) -> str:
    """`id("action", "escalation", site_id, user_id, event id, rung)`."""
    return stable_id("action", "escalation", site, user, event_id, rung)


async def produce_events(config: Config, events: list[Violation | Decision]) -> None:
    t = config.topics
    await produce(config.kafka.bootstrap_servers, [
        (t.violations if isinstance(e, Violation) else t.decisions,
         user_key(e.site_id, e.user_id), encoder.encode(e)) for e in events])


async def actions_of(config: Config) -> list[Action]:
    records = await read_all(config.kafka.bootstrap_servers, [config.topics.actions])
    return [msgspec.json.decode(r.value or b"", type=Action) for r in records]


async def ledgers_of(config: Config) -> dict[bytes, Ledger]:
    latest: dict[bytes, bytes | None] = {}
    for r in await read_all(config.kafka.bootstrap_servers, [config.topics.ledger]):
        latest[r.key or b""] = r.value
    return {k: decode_ledger(v) for k, v in latest.items() if v is not None}


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout_s: float,
                     what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.2)


async def run_until_committed(config: Config, events: int,
                              registry: CollectorRegistry | None = None) -> None:
    """An in-process enforcer until it has committed `events` input records."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_enforcer(config, stop, registry))
    try:
        t = config.topics
        done = await wait_committed(config.kafka.bootstrap_servers, config.enforcer.group_id,
                                    [t.violations, t.decisions], events, 120)
        assert done == events
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_repeated_violations_walk_the_ladder_in_order(broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config)
    s, u = "site-01", "u1"
    events: list[Violation | Decision] = [
        violation(s, u, "p1", 0), violation(s, u, "p2", 10),  # weight 2: warn
        violation(s, u, "p3", 20), violation(s, u, "p4", 30),  # 4: suspend-1d
        violation(s, u, "p5", 40, "crime"),  # 7: suspend-7d
        violation(s, u, "p6", 50),  # 8: nothing new
        violation(s, u, "p7", 60),  # 9: expel
        violation(s, u, "p8", 70),  # expelled: nothing
        violation(s, "u2", "q1", 0),  # another user: one strike, nothing
    ]
    await produce_events(config, events)
    registry = CollectorRegistry()
    await run_until_committed(config, len(events), registry)

    actions = [a for a in await actions_of(config) if a.user_id == u]
    vid = {e.post_id: e.violation_id for e in events if isinstance(e, Violation)}
    assert [(a.action, a.duration_s, a.action_id) for a in actions] == [
        ("warn", None, escalation_id(s, u, vid["p2"], "warn")),
        ("suspend", 86400, escalation_id(s, u, vid["p4"], "suspend-1d")),
        ("suspend", 604800, escalation_id(s, u, vid["p5"], "suspend-7d")),
        ("expel", None, escalation_id(s, u, vid["p7"], "expel")),
    ]
    assert [a.rule for a in actions] == ["ladder.rungs.warn", "ladder.rungs.suspend-1d",
                                         "ladder.rungs.suspend-7d", "ladder.rungs.expel"]
    assert all(a.source == "escalation" and a.post_id is None for a in actions)
    strike = {p: stable_id("strike", s, u, vid[p]) for p in vid}
    assert actions[3].strike_ids == [strike[p] for p in ("p1", "p2", "p3", "p4", "p5", "p6",
                                                         "p7")]
    assert not [a for a in await actions_of(config) if a.user_id == "u2"]

    ledgers = await ledgers_of(config)
    assert len(ledgers[user_key(s, u)].strikes) == 8
    assert len(ledgers[user_key(s, "u2")].strikes) == 1

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("mimamori_enforcer_ladder_transitions_total", to="suspend") == 2
    assert value("mimamori_enforcer_actions_total", action="expel", source="escalation") == 1
    assert value("mimamori_enforcer_strikes_total", category="abuse") == 8
    assert value("mimamori_enforcer_strikes_total", category="crime") == 1
    assert value("mimamori_enforcer_ledger_users") == 2
    assert (value("mimamori_enforcer_restore_seconds_count") or 0) >= 1

    view = await read_history(config, s, u, int(T0.timestamp()) + 3600)
    assert view.found
    assert (view.rung, view.active_weight) == ("expel", 10)
    assert [a.action for a in view.actions] == ["warn", "suspend", "suspend", "expel"]
    assert [a.in_force for a in view.actions] == [False, True, True, False]
