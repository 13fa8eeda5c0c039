"""The per-user strike ledger: what the enforcer knows about one `site_id:user_id`, as kept in
partition-local state and in the `mod.ledger` changelog (JSON, latest record per key wins).
Pure.

Times in the ledger are Unix seconds of the events themselves (a violation's `detected_at`, a
decision's `decided_at`), so replaying the same events gives the same ledger whenever it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec

from pipeline.contract.messages import Action, ActionKind, ActionSource
from pipeline.errors import PoisonRecord

StrikeState = Literal["active", "withdrawn"]


class Strike(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One strike against a user.

    Attributes:
        strike_id: stable, from the event that made it.
        category: the category it counts as (the heaviest of a violation's categories).
        weight: its weight under the ladder when it was made.
        source: `filter` (a violation) or `patrol` (a decision).
        event_id: the violation or decision id.
        post_id: the post it is about, if any.
        at_s: event time; `expires_s`: when it stops counting.
        state: `active` or `withdrawn` (an overturn); expiry is a matter of time, not state.
        withdrawn_by: the overturning decision's id; `withdrawn_s` its time.
    """

    strike_id: str
    category: str
    weight: int
    source: Literal["filter", "patrol"]
    event_id: str
    post_id: str | None = None
    at_s: int
    expires_s: int
    state: StrikeState = "active"
    withdrawn_by: str | None = None
    withdrawn_s: int | None = None

    def counts_at(self, t_s: int) -> bool:
        """Active and not yet expired at `t_s`."""
        return self.state == "active" and self.at_s <= t_s < self.expires_s


class Issued(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An action the enforcer issued, kept so that a replay can send it again with the same id
    and an overturn can reverse it.

    Attributes:
        event_id: the event that produced it.
        at_s: that event's time (a suspension runs from here).
        level: the rung index an escalation reached (None for patrol and reverse actions).
        reverses: for `restore`/`lift`, the action reversed.
        reversed_by: the overturn that reversed this action (or left an `expel` unsupported).
    """

    action_id: str
    action: ActionKind
    post_id: str | None = None
    duration_s: int | None = None
    reason: str
    source: ActionSource
    rule: str
    strike_ids: list[str] = msgspec.field(default_factory=list)
    issued_at: str
    event_id: str
    at_s: int
    level: int | None = None
    reverses: str | None = None
    reversed_by: str | None = None

    def in_force_at(self, t_s: int) -> bool:
        """A suspension that has started, not ended and not been lifted at `t_s`."""
        return (self.action == "suspend" and self.reversed_by is None
                and self.duration_s is not None and self.at_s <= t_s < self.at_s + self.duration_s)


class Overturn(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A recorded overturn: never deleted by later events (only pruned with old history).

    Attributes:
        decision_id: the overturning decision; `reviewer`, `role` who made it.
        target: what it named (`overturns`), or the post it approved.
        post_id: the post it approved, when it was about a post (kept so that a violation
            arriving after the approval is withdrawn at once).
        withdrawn: strike ids withdrawn; `reversed`: action ids reversed or no longer standing;
        issued: ids of the `restore`/`lift` actions it produced.
    """

    decision_id: str
    at_s: int
    reviewer: str
    role: str
    target: str
    post_id: str | None = None
    withdrawn: list[str] = msgspec.field(default_factory=list)
    reversed: list[str] = msgspec.field(default_factory=list)
    issued: list[str] = msgspec.field(default_factory=list)


class Ledger(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Everything the enforcer keeps about one user on one site.

    Attributes:
        applied: event id -> event time of every event applied (within the ladder's longest
            expiry): a replayed event is recognised here and never applied twice.
    """

    site_id: str
    user_id: str
    strikes: list[Strike] = msgspec.field(default_factory=list)
    actions: list[Issued] = msgspec.field(default_factory=list)
    overturns: list[Overturn] = msgspec.field(default_factory=list)
    applied: dict[str, int] = msgspec.field(default_factory=dict)

    def to_action(self, issued: Issued) -> Action:
        """The Action message of an issued action (the same bytes on every replay)."""
        return Action(
            action_id=issued.action_id, action=issued.action, site_id=self.site_id,
            user_id=self.user_id, post_id=issued.post_id, duration_s=issued.duration_s,
            reason=issued.reason, source=issued.source, issued_at=issued.issued_at,
            rule=issued.rule, strike_ids=list(issued.strike_ids), reverses=issued.reverses,
        )


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Ledger)


def encode_ledger(ledger: Ledger) -> bytes:
    """The changelog value of a ledger."""
    return _encoder.encode(ledger)


def decode_ledger(raw: bytes) -> Ledger:
    """A ledger from its changelog value.

    Raises:
        PoisonRecord: the value is not a ledger.
    """
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise PoisonRecord("schema", f"ledger record: {exc}") from None
    except msgspec.DecodeError as exc:
        raise PoisonRecord("invalid_json", f"ledger record: {exc}") from None


def parse_time(value: str, field: str) -> int:
    """Unix seconds of an RFC 3339 time (a time without an offset is taken as UTC).

    Raises:
        PoisonRecord: the value is not a time.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PoisonRecord("schema", f"{field}: {value[:40]!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def format_time(t_s: int) -> str:
    """An RFC 3339 UTC time from Unix seconds."""
    return datetime.fromtimestamp(t_s, UTC).isoformat().replace("+00:00", "Z")
