"""The rules of the patrol console, free of I/O: how review items merge into cases, how a case
is prioritised, how a post is cut into highlighted segments, and what a valid decision is."""

from __future__ import annotations

import datetime
import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeVar

import msgspec

from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Action, DecisionKind, Hit, ReviewItem, Violation
from pipeline.errors import PoisonRecord

DECISIONS: Final[tuple[DecisionKind, ...]] = (
    "approve", "delete", "warn", "suspend", "expel", "escalate")
#: Single-key shortcuts of the case page (the same table drives the page and its script).
SHORTCUTS: Final[dict[DecisionKind, str]] = {
    "approve": "a", "delete": "d", "warn": "w", "suspend": "s", "expel": "x", "escalate": "e"}
#: Suspension lengths offered on the case page, seconds (1 day to 30 days).
SUSPEND_CHOICES_S: Final[tuple[int, ...]] = (86_400, 3 * 86_400, 7 * 86_400, 30 * 86_400)
MIN_SUSPEND_S: Final = 3_600
MAX_SUSPEND_S: Final = 365 * 86_400
#: The pseudo-queue of cases escalated to a lead.
ESCALATED: Final = "escalated"
MAX_PRIORITY: Final = 100


def case_id(site_id: str, post_id: str) -> str:
    """Every item about one post (a filter hit, any number of reports) joins this case."""
    return stable_id("case", site_id, post_id)


def reporter_key(item: ReviewItem) -> str | None:
    """Who reported: the reporter when the item names one, else the report itself (each report
    comes from one reporter). None for a filter item."""
    if item.source != "report":
        return None
    if item.reporter_id:
        return f"r:{item.reporter_id}"
    return f"id:{item.report_id or item.item_id}"


def case_priority(item_priority: int, reporters: int, step: int) -> int:
    """The priority of a case: its most urgent item's, raised by `step` for every distinct
    reporter beyond the first, at most 100."""
    return min(MAX_PRIORITY, item_priority + step * max(0, reporters - 1))


def epoch_s(timestamp: str, default: float) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp; `default` when it does not parse
    (a message's time is informative, a bad one must not lose the item)."""
    try:
        moment = datetime.datetime.fromisoformat(timestamp)
    except (ValueError, TypeError):
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def rfc3339(epoch: float) -> str:
    """An RFC 3339 UTC timestamp with milliseconds."""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def decision_id(case: str, claim_id: str) -> str:
    """One claim yields at most one decision: submitting the same form twice finds this id."""
    return stable_id("decision", case, claim_id)


def overturn_id(overturned: str) -> str:
    """A decision is overturned at most once."""
    return stable_id("overturn", overturned)


class DecisionError(ValueError):
    """A decision form that cannot be accepted; the message is a catalog key."""


@dataclass(frozen=True)
class DecisionInput:
    """A validated decision form."""

    decision: DecisionKind
    duration_s: int | None
    note: str


def parse_decision(decision: str, duration: str | None, note: str | None,
                   max_note_chars: int) -> DecisionInput:
    """Validate a decision as submitted.

    Raises:
        DecisionError: an unknown decision, a suspension without a valid duration, or a note
            that is too long.
    """
    if decision not in DECISIONS:
        raise DecisionError("error.decision")
    kind: DecisionKind = decision
    note = (note or "").strip()
    if len(note) > max_note_chars:
        raise DecisionError("error.note_too_long")
    duration_s: int | None = None
    if kind == "suspend":
        try:
            duration_s = int(duration or "")
        except ValueError:
            raise DecisionError("error.duration") from None
        if not MIN_SUSPEND_S <= duration_s <= MAX_SUSPEND_S:
            raise DecisionError("error.duration")
    return DecisionInput(kind, duration_s, note)


SegmentKind = Literal["text", "hit", "control"]


@dataclass(frozen=True)
class Segment:
    """A run of a post's text: plain, covered by hits (`hits` are indexes into the case's hit
    list), or one invisible control character shown by name (`text` is then e.g. "U+202E")."""

    kind: SegmentKind
    text: str
    hits: tuple[int, ...] = ()


def _is_control(char: str) -> bool:
    # Bidi overrides and isolates, zero-width and other format characters (Cf), and C0/C1
    # controls other than line breaks and tabs: shown by name, so a post cannot reorder or
    # hide what the reviewer reads.
    if char in "\n\t":
        return False
    return unicodedata.category(char) in ("Cf", "Cc")


def segments(text: str, hits: Sequence[Hit]) -> list[Segment]:
    """Cut `text` at every hit boundary (code-point offsets, computed here so no browser ever
    counts UTF-16 units) and around every control character.

    Hits outside the text are clamped; empty or inverted ones are ignored; overlapping hits give
    segments covered by several hits.
    """
    n = len(text)
    spans = [(max(0, min(h.start, n)), max(0, min(h.end, n)), i) for i, h in enumerate(hits)]
    spans = [(s, e, i) for s, e, i in spans if s < e]
    cuts = {0, n}
    for s, e, _ in spans:
        cuts.add(s)
        cuts.add(e)
    bounds = sorted(cuts)
    out: list[Segment] = []
    for lo, hi in itertools.pairwise(bounds):
        covering = tuple(i for s, e, i in spans if s <= lo and hi <= e)
        kind: SegmentKind = "hit" if covering else "text"
        run_start = lo
        for pos in range(lo, hi):
            if _is_control(text[pos]):
                if run_start < pos:
                    out.append(Segment(kind, text[run_start:pos], covering))
                out.append(Segment("control", f"U+{ord(text[pos]):04X}", covering))
                run_start = pos + 1
        if run_start < hi:
            out.append(Segment(kind, text[run_start:hi], covering))
    return out


MASK: Final = "＊"


def masked(text: str, hits: Sequence[Hit], limit: int = 80) -> str:
    """A list excerpt with every hit span replaced by masks and controls dropped, for lists
    whose reader asked not to see abusive words by default."""
    chars = list(text)
    for hit in hits:
        for pos in range(max(0, hit.start), min(hit.end, len(chars))):
            chars[pos] = MASK
    visible = "".join(c for c in chars if not _is_control(c))
    return visible if len(visible) <= limit else visible[:limit] + "…"


def excerpt(text: str, limit: int = 80) -> str:
    """A list excerpt as written, controls dropped."""
    visible = "".join(c for c in text if not _is_control(c))
    return visible if len(visible) <= limit else visible[:limit] + "…"


def categories(items: Iterable[ReviewItem]) -> set[str]:
    """The categories a case can be filtered by: its hits' and its reports'."""
    out: set[str] = set()
    for item in items:
        out.update(h.category for h in item.hits)
        if item.report_category:
            out.add(f"report:{item.report_category}")
    return out


_T = TypeVar("_T")
_item_decoder = msgspec.json.Decoder(ReviewItem)
_action_decoder = msgspec.json.Decoder(Action)
_violation_decoder = msgspec.json.Decoder(Violation)
hits_encoder = msgspec.json.Encoder()
_hits_decoder = msgspec.json.Decoder(list[Hit])


def encode_hits(hits: Sequence[Hit]) -> str:
    """Hits as stored with an item."""
    return hits_encoder.encode(list(hits)).decode()


def decode_hits(raw: str) -> list[Hit]:
    """Hits as stored with an item."""
    return _hits_decoder.decode(raw)


def _decode(decoder: msgspec.json.Decoder[_T], raw: bytes | None) -> _T:
    if raw is None:
        raise PoisonRecord("invalid_json", "record has no value (tombstone)")
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise PoisonRecord("schema", str(exc)) from None
    except (msgspec.DecodeError, RecursionError) as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as utf_exc:
            raise PoisonRecord("invalid_utf8", f"invalid UTF-8 at byte {utf_exc.start}") from None
        raise PoisonRecord("invalid_json", str(exc)[:1000]) from None


def decode_item(raw: bytes | None) -> ReviewItem:
    """A ReviewItem from `mod.review.*`.

    Raises:
        PoisonRecord: the record cannot be used.
    """
    return _decode(_item_decoder, raw)


def decode_action(raw: bytes | None) -> Action:
    """An Action from `mod.actions` (the user's history).

    Raises:
        PoisonRecord: the record cannot be used.
    """
    return _decode(_action_decoder, raw)


def decode_violation(raw: bytes | None) -> Violation:
    """A Violation from `mod.violations` (the user's history).

    Raises:
        PoisonRecord: the record cannot be used.
    """
    return _decode(_violation_decoder, raw)
