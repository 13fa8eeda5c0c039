"""The escalation ladder against its golden table, tests/data/ladder.tsv (see its header)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Action, Decision, Violation
from pipeline.enforcer.ledger import Ledger
from pipeline.enforcer.rules import Event, Policy, apply
from pipeline.enforcer.settings import EnforcerConfig, LadderConfig, check_ladders
from pipeline.errors import PoisonRecord
from tests.tables import read_table

USER = "u1"
BASE = datetime(2026, 1, 1, tzinfo=UTC)
NOW = "2026-06-01T00:00:00.000Z"

#: The sites of the table; `s1` has no entry and takes the default ladder.
SITES = """
[sites.strict]
weights = { abuse = 2 }
straight_to = { sexual = "expel", meeting = "suspend-7d" }

[sites.gentle]
expiry_days = { abuse = 30 }
rungs = [
    { name = "warn", at_weight = 1, action = "warn" },
    { name = "suspend-3d", at_weight = 3, action = "suspend", duration_s = 259200 },
    { name = "expel", at_weight = 6, action = "expel" },
]
"""


def table_policy() -> Policy:
    ladder = msgspec.convert(tomllib.loads(SITES), LadderConfig)
    check_ladders(ladder, lambda key: f"table [ladder] {key}")
    return Policy.of(ladder, EnforcerConfig())


def _time(token: str) -> str:
    assert token.startswith("@"), token
    moment = BASE + timedelta(days=float(token[1:]))
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_event(site: str, text: str) -> tuple[str, Event]:
    """(name, event) from the table's notation; the name is the post of a violation or the
    id of a decision, as the table's strike and action references use it."""
    tokens = text.split()
    if tokens[0] == "v":
        _, post, categories, when = tokens
        return post, Violation(
            violation_id=f"V{post}", site_id=site, user_id=USER, post_id=post,
            categories=categories.split(","), terms=[], source="filter",
            created_at=_time(when), detected_at=_time(when))
    assert tokens[0] == "d", text
    ident, kind, role = tokens[1:4]
    options = dict(t.split("=", 1) for t in tokens[4:-1])
    overturns = options.get("overturns")
    if overturns is not None and overturns.startswith("auto:"):
        overturns = stable_id("action", "delete", site, overturns[5:])
    return ident, Decision(
        decision_id=ident, item_id=f"item-{ident}", site_id=site, user_id=USER,
        post_id=options.get("post"), decision=kind,  # type: ignore[arg-type]
        duration_s=int(options["dur"]) if "dur" in options else None, note="",
        reviewer="r1", role=role, overturns=overturns, decided_at=_time(tokens[-1]))  # type: ignore[arg-type]


class Names:
    """Maps ids back to the table's names: strikes and actions by the event behind them."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.strikes: dict[str, str] = {}
        self.actions: dict[str, str] = {}

    def learn(self, name: str, event: Event, actions: list[Action]) -> None:
        event_id = event.violation_id if isinstance(event, Violation) else event.decision_id
        self.strikes[stable_id("strike", self.site, USER, event_id)] = name
        post = event.post_id
        if post is not None:
            self.actions[stable_id("action", "delete", self.site, post)] = f"auto:{post}"
        for action in actions:
            self.actions.setdefault(action.action_id, f"{name}/{action.action}")

    def render(self, action: Action) -> str:
        parts: list[str] = [action.action]
        if action.post_id is not None:
            parts.append(action.post_id)
        if action.duration_s is not None:
            parts.append(str(action.duration_s))
        parts.append(action.rule)
        parts.append("[" + " ".join(self.strikes[s] for s in action.strike_ids) + "]")
        if action.reverses is not None:
            parts += ["reverses", self.actions[action.reverses]]
        return " ".join(parts)


ROWS = read_table("ladder.tsv")


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_ladder_table(row: list[str]) -> None:
    name, site, history, event_text, expected = row
    policy = table_policy()
    names = Names(site)
    ledger: Ledger | None = None
    for text in filter(None, (part.strip() for part in history.split(";"))):
        event_name, event = parse_event(site, text)
        outcome = apply(ledger, event, NOW, policy)
        ledger = outcome.ledger
        names.learn(event_name, event, outcome.actions)
    event_name, event = parse_event(site, event_text)
    if expected.startswith("!"):
        with pytest.raises(PoisonRecord) as caught:
            apply(ledger, event, NOW, policy)
        assert caught.value.reason == expected[1:]
        return
    outcome = apply(ledger, event, NOW, policy)
    names.learn(event_name, event, [])
    rendered = " ; ".join(names.render(a) for a in outcome.actions) or "-"
    if outcome.replay:
        rendered = f"replay: {rendered}"
    assert rendered == expected, name
    for action in outcome.actions:
        assert (action.site_id, action.user_id, action.issued_at) == (site, USER, NOW)
    if outcome.replay:
        assert outcome.ledger is ledger  # a replay changes nothing
        assert not outcome.strikes


def test_table_covers_every_kind_of_case() -> None:
    """The table must keep rows for each behaviour the issue names."""
    names = " ".join(row[0] for row in ROWS)
    for needed in ("expired", "strict", "gentle", "approve", "overturn", "replay", "lift"):
        assert needed in names, needed
