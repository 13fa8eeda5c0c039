"""The transition function beyond the golden table: stable ids, the ledger it keeps (strike
states, recorded overturns, pruning), its codec, and the history view built from it."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import pytest

from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Action, Decision, Violation, encoder
from pipeline.enforcer.history import format_history, history_from_records, history_of, safe
from pipeline.enforcer.ladder import Ladders
from pipeline.enforcer.ledger import (
    Ledger,
    decode_ledger,
    encode_ledger,
    format_time,
    parse_time,
)
from pipeline.enforcer.rules import Outcome, Policy, apply
from pipeline.enforcer.settings import EnforcerConfig, LadderConfig
from pipeline.errors import PoisonRecord

SITE, USER = "site-01", "u7"
DAY = 86_400
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
NOW = "2026-06-01T00:00:00.000Z"


def at(days: float) -> str:
    return format_time(T0 + int(days * DAY))


def violation(post: str, days: float, *categories: str) -> Violation:
    return Violation(violation_id=f"V{post}", site_id=SITE, user_id=USER, post_id=post,
                     categories=list(categories) or ["abuse"], terms=["x"], source="filter",
                     created_at=at(days), detected_at=at(days))


def decision(ident: str, kind: str, days: float, *, role: str = "lead", post: str | None = None,
             overturns: str | None = None, duration_s: int | None = None) -> Decision:
    return Decision(decision_id=ident, item_id="i", site_id=SITE, user_id=USER, post_id=post,
                    decision=kind, duration_s=duration_s, note="", reviewer="sato",  # type: ignore[arg-type]
                    role=role, overturns=overturns, decided_at=at(days))  # type: ignore[arg-type]


def run(events: Sequence[Violation | Decision], policy: Policy | None = None,
        now: str = NOW) -> tuple[Ledger | None, list[Outcome]]:
    policy = policy or Policy.of(LadderConfig(), EnforcerConfig())
    ledger: Ledger | None = None
    outcomes = []
    for event in events:
        outcome = apply(ledger, event, now, policy)
        ledger = outcome.ledger
        outcomes.append(outcome)
    return ledger, outcomes


def test_time_parsing() -> None:
    assert parse_time("2026-01-01T00:00:00Z", "t") == T0
    assert parse_time("2026-01-01T09:00:00+09:00", "t") == T0
    assert parse_time("2026-01-01T00:00:00", "t") == T0  # no offset: UTC
    with pytest.raises(PoisonRecord, match="detected_at: 'yesterday' is not an RFC 3339 time"):
        parse_time("yesterday", "detected_at")
    assert format_time(T0) == "2026-01-01T00:00:00Z"


def test_stable_ids_follow_the_documented_formulas() -> None:
    ledger, outcomes = run([violation("p1", 0), violation("p2", 1),
                            decision("D1", "suspend", 2, duration_s=60),
                            decision("D2", "approve", 2.5, post="p2")])
    warn = outcomes[1].actions[0]
    assert warn.action_id == stable_id("action", "escalation", SITE, USER, "Vp2", "warn")
    assert warn.strike_ids == [stable_id("strike", SITE, USER, "Vp1"),
                               stable_id("strike", SITE, USER, "Vp2")]
    [suspend] = outcomes[2].actions
    assert suspend.action_id == stable_id("action", "patrol", "suspend", SITE, "D1")
    [restore] = outcomes[3].actions
    assert restore.action_id == stable_id("action", "restore", SITE, "D2", "p2")
    assert restore.reverses == stable_id("action", "delete", SITE, "p2")  # the filter's id
    assert ledger is not None


def test_lift_id_names_the_overturn_and_the_suspension() -> None:
    events = [violation(f"p{i}", i) for i in range(1, 5)]
    _, outcomes = run([*events, decision("D9", "approve", 4.5, post="p4")])
    suspension = outcomes[3].actions[0]
    lift = outcomes[4].actions[1]
    assert lift.action == "lift"
    assert lift.action_id == stable_id("action", "lift", SITE, "D9", suspension.action_id)
    assert lift.reverses == suspension.action_id
    assert lift.source == "patrol"


def test_strike_records_weight_expiry_and_source() -> None:
    ledger, outcomes = run([violation("p1", 0, "abuse", "crime")])
    assert ledger is not None
    [strike] = ledger.strikes
    assert (strike.category, strike.weight, strike.source, strike.post_id) == (
        "crime", 3, "filter", "p1")
    assert strike.expires_s - strike.at_s == 365 * DAY
    assert outcomes[0].strikes == [strike]
    assert ledger.applied == {"Vp1": T0}


def test_overturn_is_recorded_and_survives_later_events() -> None:
    events: list[Violation | Decision] = [
        violation("p1", 0), violation("p2", 1), decision("D1", "approve", 2, post="p2"),
        violation("p3", 3), violation("p4", 4)]
    ledger, outcomes = run(events)
    assert ledger is not None
    assert outcomes[2].overturned
    states = {s.post_id: (s.state, s.withdrawn_by) for s in ledger.strikes}
    assert states == {"p1": ("active", None), "p2": ("withdrawn", "D1"),
                      "p3": ("active", None), "p4": ("active", None)}
    [overturn] = ledger.overturns
    assert overturn.decision_id == "D1"
    assert overturn.withdrawn == [stable_id("strike", SITE, USER, "Vp2")]
    assert overturn.issued == [stable_id("action", "restore", SITE, "D1", "p2")]
    # p1, p3, p4 count again: warn at p3 (weight 2); p4 makes 3, the same rung.
    assert [a.action for a in outcomes[3].actions] == ["warn"]
    assert outcomes[4].actions == []


def test_no_restore_when_the_filter_only_warns() -> None:
    policy = Policy.of(LadderConfig(), EnforcerConfig(), auto_action="warn")
    _, outcomes = run([violation("p1", 0), decision("D1", "approve", 1, post="p1")], policy)
    assert outcomes[1].actions == []
    assert outcomes[1].overturned  # the strike is still withdrawn
    assert outcomes[1].ledger.strikes[0].state == "withdrawn"


def test_overturn_roles_and_patrol_strikes_are_configurable() -> None:
    policy = Policy.of(LadderConfig(), EnforcerConfig(
        overturn_roles=["staff", "lead", "chief"], patrol_strike_decisions=["warn"]))
    ledger, outcomes = run([decision("D1", "warn", 0, role="staff"),
                            decision("D2", "delete", 1, role="staff", post="p1"),
                            violation("p2", 2), decision("D3", "approve", 3, role="staff",
                                                         post="p2")], policy)
    assert ledger is not None
    assert [s.source for s in ledger.strikes] == ["patrol", "filter"]  # no strike for delete
    assert outcomes[0].strikes[0].category == "patrol"
    assert [a.action for a in outcomes[2].actions] == ["warn"]  # patrol warn 1 + abuse 1
    assert [a.action for a in outcomes[3].actions] == ["restore"]  # staff may overturn here


def test_replay_gives_the_same_bytes_and_adds_nothing() -> None:
    events = [violation(f"p{i}", i) for i in range(1, 5)]
    ledger, outcomes = run(events)
    again = apply(ledger, events[3], "2027-01-01T00:00:00.000Z",
                  Policy.of(LadderConfig(), EnforcerConfig()))
    assert again.replay
    assert not again.changed
    assert again.ledger is ledger
    assert [encoder.encode(a) for a in again.actions] == [
        encoder.encode(a) for a in outcomes[3].actions]
    assert again.actions[0].issued_at == NOW  # the first issue's time, not the replay's


def test_codec_roundtrip_and_poison() -> None:
    ledger, _ = run([violation("p1", 0), violation("p2", 1), decision("D1", "approve", 2,
                                                                     post="p2")])
    assert ledger is not None
    raw = encode_ledger(ledger)
    assert decode_ledger(raw) == ledger
    assert b'"state":"withdrawn"' in raw
    assert b'"reverses"' in raw
    with pytest.raises(PoisonRecord) as caught:
        decode_ledger(b"{not json")
    assert caught.value.reason == "invalid_json"
    with pytest.raises(PoisonRecord) as caught:
        decode_ledger(b'{"site_id": 1}')
    assert caught.value.reason == "schema"


def test_violation_without_categories_is_poison() -> None:
    bad = msgspec.structs.replace(violation("p1", 0), categories=[])
    with pytest.raises(PoisonRecord, match="categories must not be empty"):
        apply(None, bad, NOW, Policy.of(LadderConfig(), EnforcerConfig()))


def test_event_ids_are_forgotten_after_the_longest_expiry() -> None:
    # Longest expiry by default is 365 days (crime).
    ledger, _ = run([violation("p1", 0), violation("p2", 365), violation("p3", 365.5)])
    assert ledger is not None
    assert set(ledger.applied) == {"Vp2", "Vp3"}  # Vp1 is 365.5 days old
    ledger, _ = run([violation("p1", 0), violation("p2", 365)])
    assert ledger is not None
    assert set(ledger.applied) == {"Vp1", "Vp2"}  # exactly 365 days: still kept


def test_history_is_pruned_after_retention_but_a_standing_expel_stays() -> None:
    policy = Policy.of(LadderConfig(), EnforcerConfig(history_retention_days=10))
    crimes = [violation(f"p{i}", i, "crime") for i in range(3)]
    ledger, _ = run([*crimes, violation("p9", 400)], policy)
    assert ledger is not None
    # The crime strikes expired at 365-367 days, + 10 days retention < 400: pruned.
    assert [s.post_id for s in ledger.strikes] == ["p9"]
    assert [a.action for a in ledger.actions] == ["expel"]


def test_ledger_entries_are_capped() -> None:
    policy = Policy.of(LadderConfig(), EnforcerConfig(max_ledger_entries=10))
    ledger, _ = run([violation(f"p{i}", i / 100) for i in range(25)], policy)
    assert ledger is not None
    assert len(ledger.strikes) == 10
    assert len(ledger.applied) == 10
    assert ledger.strikes[-1].post_id == "p24"  # the newest kept


def test_history_view_states_and_rung() -> None:
    events: list[Violation | Decision] = [
        violation("p1", 0), violation("p2", 1), violation("p3", 2, "crime"),
        decision("D1", "approve", 3, post="p2")]
    _, outcomes = run(events)
    records = [encode_ledger(o.ledger) for o in outcomes]
    ladders = Ladders(LadderConfig())
    view = history_from_records(records, SITE, USER, T0 + 95 * DAY, ladders)
    assert view.found
    assert [(s.post_id, s.state) for s in view.strikes] == [
        ("p1", "expired"), ("p2", "withdrawn"), ("p3", "active")]
    assert (view.active_weight, view.rung) == (3, "warn")
    assert [(a.action, a.source, a.in_force) for a in view.actions] == [
        ("warn", "escalation", False), ("suspend", "escalation", False),
        ("restore", "patrol", False)]
    assert view.actions[1].reversed_by is None  # over by itself, still a standing fact
    text = format_history(view)
    assert "rung now: warn, active strike weight 3" in text
    assert "withdrawn by D1" in text
    assert "overturns (1):" in text
    assert "ladder.rungs.suspend-1d" in text


def test_history_during_a_suspension_and_of_an_unknown_user() -> None:
    events = [violation(f"p{i}", i) for i in range(1, 5)]
    _, outcomes = run(events)
    view = history_of(outcomes[-1].ledger, SITE, USER, T0 + int(4.5 * DAY),
                      Ladders(LadderConfig()))
    assert [a.in_force for a in view.actions] == [False, True]
    assert "IN FORCE" in format_history(view)
    assert "suspend 1d" in format_history(view)
    empty = history_from_records([encode_ledger(outcomes[-1].ledger), None], SITE, USER, T0,
                                 Ladders(LadderConfig()))
    assert not empty.found  # a tombstone deletes the ledger
    assert "no strikes or actions" in format_history(empty)


def test_history_text_never_passes_terminal_controls() -> None:
    hostile = "u\x1b[31m\u202e\u2028x"
    assert safe(hostile) == "u\\u001b[31m\\u202e\\u2028x"
    view = history_of(None, "s\x07", hostile, T0, Ladders(LadderConfig()))
    text = format_history(view)
    for control in ("\x1b", "\u202e", "\x07"):
        assert control not in text


def test_action_contract_additions_have_defaults() -> None:
    """An Action without the enforcer's fields (the filter's, or an old one) still decodes."""
    old = (b'{"action_id":"a","action":"delete","site_id":"s","user_id":"u","post_id":"p",'
           b'"duration_s":null,"reason":"r","source":"auto","issued_at":"t"}')
    action = msgspec.json.decode(old, type=Action)
    assert (action.rule, action.strike_ids, action.reverses) == ("", [], None)


def test_sample_offenders_walk_the_default_ladder() -> None:
    """The demo's repeat offenders (pipeline.tools.sample) reach every rung between them."""
    from pipeline.contract.messages import Post
    from pipeline.tools.sample import OFFENDER_PROFILES, generate

    expected = [["warn", "suspend 86400"],
                ["warn", "suspend 86400", "suspend 604800"],
                ["warn", "suspend 604800", "expel"],
                ["warn", "suspend 86400", "suspend 604800"]]
    assert len(OFFENDER_PROFILES) == len(expected)
    policy = Policy.of(LadderConfig(), EnforcerConfig())
    ledgers: dict[bytes, Ledger | None] = {}
    got: dict[bytes, list[str]] = {}
    for index, record in enumerate(r for r in generate(500, offenders=4, malformed=False)
                                   if b":x" in r.key):
        post = msgspec.json.decode(record.value, type=Post)
        category = OFFENDER_PROFILES[int(post.user_id[1:])][int(post.post_id.rsplit("-")[1])]
        event = Violation(violation_id=post.post_id, site_id=post.site_id,
                          user_id=post.user_id, post_id=post.post_id, categories=[category],
                          terms=[], source="filter", created_at=post.created_at,
                          detected_at=at(index / 1000))
        outcome = apply(ledgers.get(record.key), event, NOW, policy)
        ledgers[record.key] = outcome.ledger
        got.setdefault(record.key, []).extend(
            f"{a.action} {a.duration_s}" if a.duration_s else a.action for a in outcome.actions)
    assert [got[k] for k in sorted(got, key=lambda k: k.split(b":")[1])] == expected


def test_apply_never_changes_the_ledger_it_is_given() -> None:
    """Ledgers are shared (the state, a batch's staged copy): apply must copy before writing."""
    events: list[Violation | Decision] = [violation(f"p{i}", i) for i in range(1, 5)]
    ledger, _ = run(events)
    assert ledger is not None
    policy = Policy.of(LadderConfig(), EnforcerConfig())
    for event in (violation("p5", 4.2), decision("D1", "approve", 4.5, post="p4"),
                  decision("D2", "suspend", 4.5, duration_s=60),
                  decision("D3", "warn", 4.6, overturns="D2"),
                  decision("D4", "approve", 4.7, post="p9")):
        before = encode_ledger(ledger)
        outcome = apply(ledger, event, NOW, policy)
        assert outcome.changed
        assert encode_ledger(ledger) == before
