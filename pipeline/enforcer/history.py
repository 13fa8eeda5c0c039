"""A user's history for people: strikes with their state, actions with their reasons, and
overturns, built from the ledger changelog's records. Pure.

`mimamori history SITE:USER` prints `format_history(...)`; the patrol console shows the same
`History` (encode it with msgspec for JSON).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Literal

import msgspec

from pipeline.enforcer.ladder import NO_RUNG, Ladders
from pipeline.enforcer.ledger import Ledger, decode_ledger, format_time
from pipeline.enforcer.rules import standing

StrikeView = Literal["active", "expired", "withdrawn"]


class StrikeEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One strike as people read it. `state` is `active`, `expired` or `withdrawn`."""

    strike_id: str
    state: StrikeView
    category: str
    weight: int
    source: str
    event_id: str
    post_id: str | None
    at: str
    expires_at: str
    withdrawn_by: str | None = None
    withdrawn_at: str | None = None


class ActionEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One action the enforcer issued, with why.

    Attributes:
        at: the time of the event that produced it (a suspension runs from here).
        in_force: a suspension that has not ended or been lifted.
        reversed_by: the overturn that reversed it (or under which an expel no longer stands).
    """

    action_id: str
    action: str
    source: str
    rule: str
    reason: str
    post_id: str | None
    duration_s: int | None
    strike_ids: list[str]
    event_id: str
    at: str
    issued_at: str
    in_force: bool = False
    reverses: str | None = None
    reversed_by: str | None = None


class OverturnEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded overturn."""

    decision_id: str
    at: str
    reviewer: str
    role: str
    target: str
    withdrawn: list[str]
    reversed: list[str]
    issued: list[str]


class History(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the ledger says about one user, as of a moment.

    Attributes:
        found: the ledger has a record for the user.
        rung: the rung the user stands on now (None below the first), `active_weight` the
            weight of the active strikes.
    """

    site_id: str
    user_id: str
    as_of: str
    found: bool
    active_weight: int
    rung: str | None
    strikes: list[StrikeEntry]
    actions: list[ActionEntry]
    overturns: list[OverturnEntry]


def latest_ledger(values: Iterable[bytes | None]) -> Ledger | None:
    """The ledger a user's changelog records leave (the latest wins; None is a tombstone)."""
    last: bytes | None = None
    for value in values:
        last = value
    return decode_ledger(last) if last else None


def history_of(ledger: Ledger | None, site_id: str, user_id: str, now_s: int,
               ladders: Ladders) -> History:
    """The history view of a user's ledger (or of a user the ledger never saw) at `now_s`."""
    as_of = format_time(now_s)
    if ledger is None:
        return History(site_id=site_id, user_id=user_id, as_of=as_of, found=False,
                       active_weight=0, rung=None, strikes=[], actions=[], overturns=[])
    ladder = ladders.of(site_id)
    now = standing(ledger.strikes, now_s, ladder)
    strikes = [
        StrikeEntry(
            strike_id=s.strike_id,
            state="withdrawn" if s.state == "withdrawn" else
            "active" if s.expires_s > now_s else "expired",
            category=s.category, weight=s.weight, source=s.source, event_id=s.event_id,
            post_id=s.post_id, at=format_time(s.at_s), expires_at=format_time(s.expires_s),
            withdrawn_by=s.withdrawn_by,
            withdrawn_at=format_time(s.withdrawn_s) if s.withdrawn_s is not None else None)
        for s in ledger.strikes]
    actions = [
        ActionEntry(
            action_id=i.action_id, action=i.action, source=i.source, rule=i.rule,
            reason=i.reason, post_id=i.post_id, duration_s=i.duration_s,
            strike_ids=list(i.strike_ids), event_id=i.event_id, at=format_time(i.at_s),
            issued_at=i.issued_at, in_force=i.in_force_at(now_s), reverses=i.reverses,
            reversed_by=i.reversed_by)
        for i in ledger.actions]
    overturns = [
        OverturnEntry(decision_id=o.decision_id, at=format_time(o.at_s), reviewer=o.reviewer,
                      role=o.role, target=o.target, withdrawn=list(o.withdrawn),
                      reversed=list(o.reversed), issued=list(o.issued))
        for o in ledger.overturns]
    return History(
        site_id=site_id, user_id=user_id, as_of=as_of, found=True, active_weight=now.weight,
        rung=ladder.rungs[now.level].name if now.level != NO_RUNG else None,
        strikes=strikes, actions=actions, overturns=overturns)


def history_from_records(values: Iterable[bytes | None], site_id: str, user_id: str,
                         now_s: int, ladders: Ladders) -> History:
    """`history_of` the ledger that a user's changelog records leave."""
    return history_of(latest_ledger(values), site_id, user_id, now_s, ladders)


def safe(text: str | None) -> str:
    """Text from the stream made safe for a terminal: control, format (bidi) and separator
    characters are shown as escapes, never interpreted."""
    if text is None:
        return "-"
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co")
        else c for c in text)


def short(ident: str | None) -> str:
    """An id as the text view shows it: stable ids (32 hex digits) cut to their first 8, like a
    short commit hash; `--json` has them in full."""
    if ident is None:
        return "-"
    return safe(ident[:8] if len(ident) == 32 else ident)


def duration(seconds: int) -> str:
    """86400 -> 1d, 7200 -> 2h, 90 -> 90s."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def format_history(view: History) -> str:
    """The history as text for a terminal, two lines per action (what, then why); every value
    from the stream goes through `safe`."""
    who = f"{safe(view.site_id)}:{safe(view.user_id)}"
    if not view.found:
        return f"{who}: no strikes or actions in the ledger (as of {view.as_of})\n"
    lines = [f"{who} — rung now: {view.rung or 'none'}, active strike weight "
             f"{view.active_weight} (as of {view.as_of})",
             f"strikes ({len(view.strikes)}):"]
    for s in view.strikes:
        line = (f"  {s.at}  {s.state:<9}  {safe(s.category)} weight {s.weight}, until "
                f"{s.expires_at}  post {safe(s.post_id)}  {s.source} {short(s.event_id)}  "
                f"strike {short(s.strike_id)}")
        if s.withdrawn_by is not None:
            line += f"  withdrawn by {short(s.withdrawn_by)} at {s.withdrawn_at}"
        lines.append(line)
    lines.append(f"actions ({len(view.actions)}):")
    for a in view.actions:
        what = a.action + (f" {duration(a.duration_s)}" if a.duration_s is not None else "")
        what += f" post {safe(a.post_id)}" if a.post_id is not None else ""
        line = f"  {a.at}  {what}  {a.source}  {safe(a.rule)}  action {short(a.action_id)}"
        if a.strike_ids:
            line += f"  strikes {','.join(short(i) for i in a.strike_ids)}"
        if a.reverses is not None:
            line += f"  reverses {short(a.reverses)}"
        if a.in_force:
            line += "  IN FORCE"
        if a.reversed_by is not None:
            line += f"  reversed by {short(a.reversed_by)}"
        lines += [line, f"      {safe(a.reason)}"]
    if view.overturns:
        lines.append(f"overturns ({len(view.overturns)}):")
    for o in view.overturns:
        lines.append(
            f"  {o.at}  {short(o.decision_id)} by {safe(o.role)} {safe(o.reviewer)} on "
            f"{short(o.target)}: withdrew {len(o.withdrawn)} strike(s), reversed "
            f"{len(o.reversed)} action(s), issued {len(o.issued)}")
    return "\n".join(lines) + "\n"
