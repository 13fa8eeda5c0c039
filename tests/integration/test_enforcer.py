"""The enforcer on the embedded broker: the ladder walked in order, overturns, kill -9 and
rebalances that lose or double nothing.

Expected actions are written by hand: which rung each event reaches under the default ladder
(warn at weight 2, suspend-1d at 4, suspend-7d at 6, expel at 9; abuse weighs 1, crime 3), and
their ids from the documented formulas (README, "Enforcement").
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from prometheus_client import CollectorRegistry

from pipeline.config import Config, to_environment
from pipeline.contract.ids import stable_id, user_key
from pipeline.contract.messages import Action, Decision, Violation, encoder
from pipeline.enforcer.commands import read_history
from pipeline.enforcer.ledger import Ledger, decode_ledger
from pipeline.enforcer.service import run_enforcer
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker, free_port
from pipeline.kafka.topicio import (
    committed_offsets,
    committed_total,
    produce,
    read_all,
    wait_committed,
)
from tests.integration.conftest import fresh_config
from tests.integration.helpers import http_get
from tests.processes import ROOT, spawn

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
    shown = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "pipeline", "history", f"{s}:{u}"], cwd=ROOT,
        env=os.environ | to_environment(config), capture_output=True, text=True, timeout=60,
        check=False)
    assert shown.returncode == 0, shown.stderr
    assert "strikes (8):" in shown.stdout
    assert "expel  escalation  ladder.rungs.expel" in shown.stdout
    assert [a.action for a in view.actions] == ["warn", "suspend", "suspend", "expel"]
    assert [a.in_force for a in view.actions] == [False, True, True, False]


async def test_overturn_withdraws_the_strike_and_emits_restore_and_lift(
        broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config)
    s, u, v = "site-01", "u1", "u2"
    first: list[Violation | Decision] = [
        *(violation(s, u, f"p{i}", i * 10) for i in range(1, 5)),  # warn at p2, suspend at p4
        decision(s, v, "D1", "suspend", 5, role="staff", duration_s=3 * 86400),
    ]
    await produce_events(config, first)
    await run_until_committed(config, len(first))
    # The lead's decisions come after the events they judge, as from the console.
    second: list[Violation | Decision] = [
        decision(s, u, "D2", "approve", 100, post="p4"),  # the auto-deleted p4 was fine
        decision(s, v, "D3", "approve", 100, role="staff", post="q1"),  # staff: no overturn
        decision(s, v, "D4", "warn", 200, overturns="D1"),  # a lead replaces the suspension
    ]
    await produce_events(config, second)
    registry = CollectorRegistry()
    await run_until_committed(config, len(first) + len(second), registry)

    vid = {f"p{i}": stable_id("violation", s, f"p{i}") for i in range(1, 5)}
    suspension = escalation_id(s, u, vid["p4"], "suspend-1d")
    patrol_suspension = stable_id("action", "patrol", "suspend", s, "D1")
    actions = {a.action_id: a for a in await actions_of(config)}
    assert set(actions) == {
        escalation_id(s, u, vid["p2"], "warn"), suspension, patrol_suspension,
        stable_id("action", "restore", s, "D2", "p4"), stable_id("action", "lift", s, "D2",
                                                                 suspension),
        stable_id("action", "lift", s, "D4", patrol_suspension),
        stable_id("action", "patrol", "warn", s, "D4"),
    }
    restore = actions[stable_id("action", "restore", s, "D2", "p4")]
    assert (restore.action, restore.post_id, restore.rule, restore.source) == (
        "restore", "p4", "overturn.restore", "patrol")
    assert restore.reverses == stable_id("action", "delete", s, "p4")  # the filter's delete
    assert restore.strike_ids == [stable_id("strike", s, u, vid["p4"])]
    lift = actions[stable_id("action", "lift", s, "D2", suspension)]
    assert (lift.action, lift.reverses, lift.rule) == ("lift", suspension, "overturn.lift")

    ledger = (await ledgers_of(config))[user_key(s, u)]
    assert [(x.post_id, x.state, x.withdrawn_by) for x in ledger.strikes] == [
        ("p1", "active", None), ("p2", "active", None), ("p3", "active", None),
        ("p4", "withdrawn", "D2")]
    [overturn] = ledger.overturns
    assert (overturn.decision_id, overturn.role) == ("D2", "lead")
    assert registry.get_sample_value("mimamori_enforcer_overturns_total") == 2

    view = await read_history(config, s, u, int(T0.timestamp()) + 3600)
    assert [x.state for x in view.strikes] == ["active", "active", "active", "withdrawn"]
    assert view.rung == "warn"


def offender_stream(users: int, seed: int) -> tuple[list[Violation | Decision],
                                                    dict[str, set[str]]]:
    """Events of `users` users, each with six abuse violations in order, and a patrol
    suspension (no strike) for every fourth; users interleaved at random. Returns the events
    and, by event id, the ids of the actions each must yield (by hand: warn at the second
    strike, suspend-1d at the fourth, suspend-7d at the sixth). Nothing here depends on how
    the two topics interleave, so any correct run yields exactly these."""
    rng = random.Random(seed)
    queues: list[list[Violation | Decision]] = []
    expected: dict[str, set[str]] = {}
    for i in range(users):
        site, user = f"site-{i % 3 + 1:02d}", f"k{i:05d}"
        events: list[Violation | Decision] = []
        for k in range(1, 7):
            v = violation(site, user, f"{user}-p{k}", i + k * 60)
            rung = {2: "warn", 4: "suspend-1d", 6: "suspend-7d"}.get(k)
            expected[v.violation_id] = {escalation_id(site, user, v.violation_id, rung)} \
                if rung else set()
            events.append(v)
        if i % 4 == 0:
            d = decision(site, user, f"D-{user}", "suspend", i + 30, role="staff",
                         duration_s=86400)
            expected[d.decision_id] = {stable_id("action", "patrol", "suspend", site,
                                                 d.decision_id)}
            events.insert(rng.randrange(len(events) + 1), d)
        queues.append(events)
    stream: list[Violation | Decision] = []
    while queues:
        queue = rng.choice(queues)
        stream.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return stream, expected


def event_id(raw: bytes) -> str:
    message = msgspec.json.decode(raw)
    return str(message.get("violation_id") or message["decision_id"])


async def uncovered(config: Config, expected: dict[str, set[str]]) -> list[str]:
    """The at-least-once invariant: every event below its partition's committed offset has
    all of its actions on mod.actions. Returns the misses (empty is good)."""
    t = config.topics
    bootstrap = config.kafka.bootstrap_servers
    committed = await committed_offsets(bootstrap, config.enforcer.group_id,
                                        [t.violations, t.decisions])
    produced = {a.action_id for a in await actions_of(config)}
    missing = []
    for record in await read_all(bootstrap, [t.violations, t.decisions]):
        tp = (record.topic, record.partition)
        if record.offset >= next((o for p, o in committed.items()
                                  if (p.topic, p.partition) == tp), 0):
            continue
        missing += [f"{record.topic}[{record.partition}]@{record.offset} -> {a}"
                    for a in expected[event_id(record.value or b"")] - produced]
    return missing


def check_ledgers(ledgers: dict[bytes, Ledger], users: int) -> None:
    """Every user has exactly their six strikes: none lost, none doubled."""
    assert len(ledgers) == users
    for ledger in ledgers.values():
        assert len(ledger.strikes) == 6, (ledger.user_id, len(ledger.strikes))
        assert len({s.strike_id for s in ledger.strikes}) == 6


def start_enforcer(config: Config, log: Path) -> subprocess.Popen[bytes]:
    return spawn(["pipeline", "enforce"], config, log)


def with_metrics_port(config: Config) -> tuple[Config, str]:
    port = free_port()
    return msgspec.structs.replace(config, metrics=msgspec.structs.replace(
        config.metrics, port=port)), f"http://127.0.0.1:{port}"


async def until_ready(url: str) -> None:
    async def ready() -> bool:
        return http_get(f"{url}/ready")[0] == 200

    await wait_until(ready, 60, "the enforcer to be ready")


def stop_enforcer(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.mark.fault
async def test_kill9_at_random_moments_yields_the_same_actions(broker: EmbeddedBroker,
                                                               tmp_path: Path) -> None:
    users = 500
    events, expected = offender_stream(users, seed=7)
    wanted = set().union(*expected.values())
    # Small batches: many commits, so the kills land between and inside batches.
    config, url = with_metrics_port(fresh_config(broker.bootstrap_servers,
                                                 max_batch_records=20))
    await ensure_topics(config)
    await produce_events(config, events)
    t = config.topics
    bootstrap, group = config.kafka.bootstrap_servers, config.enforcer.group_id
    inputs = [t.violations, t.decisions]
    rng = random.Random(2026)
    killed_at: list[int] = []
    log = tmp_path / "enforcer.log"
    for _ in range(4):
        before = await committed_total(bootstrap, group, inputs)
        if before >= len(events):
            break
        process = start_enforcer(config, log)

        async def progressed(floor: int = before) -> bool:
            return await committed_total(bootstrap, group, inputs) > floor

        await wait_until(progressed, 60, "the restarted enforcer to commit")
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        killed_at.append(await committed_total(bootstrap, group, inputs))
        assert await uncovered(config, expected) == [], "a commit ran ahead of its actions"
    process = start_enforcer(config, log)
    try:
        await until_ready(url)
        assert await wait_committed(bootstrap, group, inputs, len(events), 120) == len(events)
    finally:
        assert stop_enforcer(process) == 0
    assert sum(1 for n in killed_at if n < len(events)) >= 2, f"kills: {killed_at}"

    ids = [a.action_id for a in await actions_of(config)]
    assert set(ids) == wanted
    check_ledgers(await ledgers_of(config), users)

    # The same input, uninterrupted, yields the same set of actions.
    calm = fresh_config(broker.bootstrap_servers, max_batch_records=20)
    await ensure_topics(calm)
    await produce_events(calm, events)
    await run_until_committed(calm, len(events))
    assert {a.action_id for a in await actions_of(calm)} == set(ids)
    print(f"\nFAULT | enforcer kill -9 at random moments, restart | {len(killed_at)} | "
          f"{len(events):,} | 0 | {len(ids) - len(set(ids))} | killed at {killed_at} |")


async def test_a_rebalance_between_two_enforcers_loses_or_doubles_nothing(
        broker: EmbeddedBroker, tmp_path: Path) -> None:
    users = 300
    events, expected = offender_stream(users, seed=11)
    base = fresh_config(broker.bootstrap_servers, max_batch_records=50)
    await ensure_topics(base)
    t = base.topics
    bootstrap, group = base.kafka.bootstrap_servers, base.enforcer.group_id
    inputs = [t.violations, t.decisions]
    log = tmp_path / "enforcer.log"
    step = len(events) // 6 + 1
    chunks = [events[i:i + step] for i in range(0, len(events), step)]
    sent = 0

    async def feed(n: int) -> None:
        nonlocal sent
        for chunk in chunks[sent:sent + n]:
            await produce_events(base, chunk)
        sent += n
        done = sum(len(c) for c in chunks[:sent])
        await wait_until(functools.partial(_committed, bootstrap, group, inputs, done), 90,
                         f"{done} events committed")

    def owned(url: str) -> int:
        """Partitions a member holds now: its lag series (set from assignment on)."""
        body = http_get(f"{url}/metrics")[1]
        return sum(1 for line in body.splitlines()
                   if line.startswith("mimamori_consumer_lag_records{"))

    async def members_hold(first_url: str, second_url: str, first: int, second: int) -> None:
        async def settled() -> bool:
            return (owned(first_url), owned(second_url)) == (first, second)

        await wait_until(settled, 90, f"partitions held {first} + {second}")

    config_1, url_1 = with_metrics_port(base)
    config_2, url_2 = with_metrics_port(base)
    first = start_enforcer(config_1, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        await feed(2)
        second = start_enforcer(config_2, log)  # joins: half of the partitions move to it
        await members_hold(url_1, url_2, 4, 4)  # 2 of each topic, co-partitioned, each
        await feed(2)
        assert stop_enforcer(first) == 0  # leaves: its partitions move to the second
        await members_hold(url_1, url_2, 0, 8)
        await feed(2)
    finally:
        if first.poll() is None:
            stop_enforcer(first)
        if second is not None:
            assert stop_enforcer(second) == 0
    assert await committed_total(bootstrap, group, inputs) == len(events)
    ids = [a.action_id for a in await actions_of(base)]
    assert set(ids) == set().union(*expected.values())
    check_ledgers(await ledgers_of(base), users)
    assert await uncovered(base, expected) == []
    print(f"\nFAULT | enforcer rebalance: join, clean leave while events flow | 2 | "
          f"{len(events):,} | 0 | {len(ids) - len(set(ids))} | - |")


async def _committed(bootstrap: str, group: str, inputs: list[str], at_least: int) -> bool:
    return await committed_total(bootstrap, group, inputs) >= at_least


async def test_bad_events_go_to_the_dlq_and_the_ladder_goes_on(broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config)
    t = config.topics
    s, u = "site-01", "u1"
    key = user_key(s, u)
    good = [violation(s, u, "p1", 0), violation(s, u, "p2", 10)]
    bad_time = msgspec.structs.replace(violation(s, u, "p3", 20), detected_at="yesterday")
    records: list[tuple[str, bytes | None, bytes]] = [
        (t.violations, key, encoder.encode(good[0])),
        (t.violations, key, b"{not json"),
        (t.violations, b"site-01:someone-else", encoder.encode(violation(s, u, "p9", 5))),
        (t.violations, key, encoder.encode(bad_time)),
        (t.decisions, key, encoder.encode(decision(s, u, "D1", "suspend", 15))),  # no duration
        (t.violations, key, encoder.encode(good[1])),
    ]
    await produce(config.kafka.bootstrap_servers, records)
    await run_until_committed(config, len(records))
    [warn] = await actions_of(config)
    assert warn.action_id == escalation_id(s, u, good[1].violation_id, "warn")
    dlq = await read_all(config.kafka.bootstrap_servers, [t.dlq(t.violations),
                                                          t.dlq(t.decisions)])
    reasons = sorted((r.topic, dict(r.headers)["dlq.error.type"].decode()) for r in dlq)
    assert reasons == [(t.dlq(t.decisions), "schema"), (t.dlq(t.violations), "invalid_json"),
                       (t.dlq(t.violations), "schema"), (t.dlq(t.violations), "schema")]
    messages = " ".join(dict(r.headers)["dlq.error.message"].decode() for r in dlq)
    assert "not the event's site_id:user_id" in messages
    assert "detected_at: 'yesterday' is not an RFC 3339 time" in messages
    assert "a suspend needs a positive duration_s" in messages


async def test_events_whose_ledger_was_written_resend_their_actions_only(
        broker: EmbeddedBroker) -> None:
    """A crash between the ledger write and the action write: the changelog already holds the
    events, the actions never reached mod.actions and the offsets were not committed. The
    restarted enforcer must send the actions (same ids) and add no strike."""
    from pipeline.enforcer.ledger import encode_ledger
    from pipeline.enforcer.rules import Policy, apply

    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config)
    s, u = "site-01", "u1"
    events = [violation(s, u, "p1", 0), violation(s, u, "p2", 10)]
    policy = Policy.of(config.ladder, config.enforcer)
    ledger = None
    for event in events:  # the state the crashed run had written
        ledger = apply(ledger, event, "2026-11-23T00:00:11.000Z", policy).ledger
    assert ledger is not None
    await produce(config.kafka.bootstrap_servers,
                  [(config.topics.ledger, user_key(s, u), encode_ledger(ledger))])
    await produce_events(config, list(events))
    registry = CollectorRegistry()
    await run_until_committed(config, len(events), registry)

    [warn] = await actions_of(config)
    assert warn.action_id == escalation_id(s, u, events[1].violation_id, "warn")
    assert warn.issued_at == "2026-11-23T00:00:11.000Z"  # as first issued, byte for byte
    assert registry.get_sample_value("mimamori_enforcer_replays_skipped_total") == 2
    assert registry.get_sample_value("mimamori_enforcer_strikes_total",
                                     {"category": "abuse"}) is None
    assert len((await ledgers_of(config))[user_key(s, u)].strikes) == 2


async def test_the_demo_shows_the_ladder_and_an_overturn() -> None:
    """The README's first command: warns, suspensions and an expel among the outputs."""
    import re

    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "pipeline", "demo", "--metrics-port", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = re.search(r"warn (\d+) · suspend (\d+) · expel (\d+) · restore (\d+) · lift (\d+)",
                      done.stdout)
    assert found, done.stdout[-3000:]
    warn, suspend, expel, restore, lift = map(int, found.groups())
    # The sample's 8 repeat offenders alone (pipeline.tools.sample.OFFENDER_PROFILES, twice):
    # 8 warns, 12 suspensions, 2 expels; one lead overturn restores a post and lifts one.
    assert warn >= 8
    assert suspend >= 12
    assert (expel, restore, lift) == (2, 1, 1)
    assert "mimamori history" in done.stdout
    assert "withdrawn" in done.stdout


async def test_an_aborted_batch_replays_against_what_reached_the_changelog(
        broker: EmbeddedBroker) -> None:
    """The produce of a batch failed after its ledger record was acknowledged but before its
    action was: the batch comes again, its partition is read back from the changelog, the
    events are replays, and the action is sent again with the same id."""
    from aiokafka import ConsumerRecord, TopicPartition
    from aiokafka.partitioner import DefaultPartitioner

    from pipeline.enforcer.metrics import EnforcerMetrics
    from pipeline.enforcer.service import Enforcer
    from pipeline.kafka.deadletters import DeadLetters

    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config)
    t = config.topics
    s, u = "site-01", "u1"
    key = user_key(s, u)
    p = DefaultPartitioner()(key, [0, 1, 2, 3], [0, 1, 2, 3])
    events = [violation(s, u, "p1", 0), violation(s, u, "p2", 10)]
    tp = TopicPartition(t.violations, p)
    batch = {tp: [ConsumerRecord(tp.topic, p, n, 0, 0, key, encoder.encode(e), None, 0, 0, [])
                  for n, e in enumerate(events)]}
    registry = CollectorRegistry()
    enforcer = Enforcer(config, EnforcerMetrics(registry))
    await enforcer.on_assigned({TopicPartition(topic, n) for topic in (t.violations,
                                                                     t.decisions)
                                for n in range(4)})
    dlq = DeadLetters(t)
    first = await enforcer.process(batch, dlq)
    warn = escalation_id(s, u, events[1].violation_id, "warn")
    assert [o.topic for o in first.outputs] == [t.actions, t.ledger]
    [ledger_record] = [o for o in first.outputs if o.topic == t.ledger]
    await produce(config.kafka.bootstrap_servers, [(t.ledger, key, ledger_record.value or b"")])
    assert first.on_abort is not None
    first.on_abort()

    again = await enforcer.process(batch, dlq)
    actions = [msgspec.json.decode(o.value or b"", type=Action) for o in again.outputs]
    assert [(a.action_id, a.action) for a in actions] == [(warn, "warn")]
    assert again.on_commit is not None
    again.on_commit()
    assert registry.get_sample_value("mimamori_enforcer_replays_skipped_total") == 2
    ledger = enforcer.store.get(p, key)
    assert ledger is not None
    assert len(ledger.strikes) == 2
