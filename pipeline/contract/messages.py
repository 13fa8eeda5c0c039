"""Message schemas (the contract in ARCHITECTURE.md) and their reused codecs.

Inbound types ignore unknown fields; new fields get defaults; fields are never renamed or
retyped. Decoders and encoders are built once at import and reused.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec

from pipeline.errors import PoisonRecord

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
#: An RFC 3339 date-time ("2026-11-23T10:00:00Z", "2026-11-23T19:00:00.5+09:00"), checked by
#: `decode_post` and `decode_report` once the record is decoded: a `fullmatch` there costs half
#: of what msgspec's `Meta(pattern=...)` does on every post (0.2 against 0.43 µs).
Timestamp = Annotated[str, msgspec.Meta(description="an RFC 3339 date-time")]
_rfc3339 = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:"
    r"(?:[0-5][0-9]|60)(?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
).fullmatch
_NOT_RFC3339 = "Expected an RFC 3339 date-time - at `$.created_at`"

Mode = Literal["ng", "watch"]
Verdict = Literal["ng", "review", "clean"]
#: `restore` (a deleted post) and `lift` (a suspension) reverse an action after an overturn.
ActionKind = Literal["delete", "warn", "suspend", "expel", "restore", "lift"]
ActionSource = Literal["auto", "patrol", "escalation"]
ReviewSource = Literal["filter", "report"]
DecisionKind = Literal["approve", "delete", "warn", "suspend", "expel", "escalate"]
ReviewerRole = Literal["staff", "lead", "chief"]

#: Machine names of the report categories in CONTEXT.md.
ReportCategory = Literal[
    "operation",  # general opinions on site operation
    "penalty",  # penalty-related
    "violating_post",  # rule-violating posts
    "registration",  # registration / withdrawal
    "billing",  # paid billing
    "internet",  # the internet in general
    "advertising",
    "certification",
    "education",
    "other",
]


class Post(msgspec.Struct, frozen=True):
    """A user's post, as the site produces it to `mod.posts`."""

    post_id: NonEmpty
    site_id: NonEmpty
    user_id: NonEmpty
    text: str
    created_at: Timestamp
    title: str | None = None
    board: str | None = None
    lang: str | None = None
    reply_to: str | None = None


class Report(msgspec.Struct, frozen=True):
    """A user's report of a post, as the site produces it to `mod.reports`."""

    report_id: NonEmpty
    site_id: NonEmpty
    post_id: NonEmpty
    reporter_id: NonEmpty
    category: ReportCategory
    created_at: Timestamp
    text: str = ""
    post_text: str | None = None
    post_user_id: str | None = None


class Hit(msgspec.Struct, frozen=True):
    """One match. `start`/`end` are code-point offsets into the original text."""

    term: str
    mode: Mode
    category: str
    start: int
    end: int


class ReviewItem(msgspec.Struct, frozen=True):
    """A post or report waiting for patrol staff; higher `priority` is worked first."""

    item_id: str
    queue: str
    priority: int
    site_id: str
    user_id: str
    post_id: str
    text: str
    hits: list[Hit]
    source: ReviewSource
    created_at: str
    report_id: str | None = None
    report_category: str | None = None
    report_text: str | None = None
    wordlist_version: str = ""
    #: Who reported (reports only), so the console can count distinct reporters of a post.
    reporter_id: str | None = None


class Action(msgspec.Struct, frozen=True):
    """What the site must carry out."""

    action_id: str
    action: ActionKind
    site_id: str
    user_id: str
    post_id: str | None
    duration_s: int | None
    reason: str
    source: ActionSource
    issued_at: str
    wordlist_version: str = ""
    #: The configuration key of the rule that produced the action (`ladder.rungs.warn`,
    #: `ladder.sites.site-02.straight_to.sexual`, `patrol.suspend`, `overturn.lift`); empty for
    #: the filter's automatic actions, whose reason names categories and terms.
    rule: str = ""
    #: The strikes behind an enforcer action (the active strikes that reached the rung).
    strike_ids: list[str] = msgspec.field(default_factory=list)
    #: For `restore` and `lift`: the id of the action reversed.
    reverses: str | None = None


class Violation(msgspec.Struct, frozen=True):
    """A strike event for the enforcer's per-user ledger."""

    violation_id: str
    site_id: str
    user_id: str
    post_id: str
    categories: list[str]
    terms: list[str]
    source: Literal["filter", "patrol"]
    created_at: str
    detected_at: str
    wordlist_version: str = ""


class Decision(msgspec.Struct, frozen=True):
    """A patrol decision on a review item, written by the console to `mod.decisions`.

    `overturns` names the decision (or, for an automatic action, the action id) that this one
    reverses, or is None.
    """

    decision_id: str
    item_id: str
    site_id: str
    user_id: str
    post_id: str | None
    decision: DecisionKind
    duration_s: int | None
    note: str
    reviewer: str
    role: ReviewerRole
    overturns: str | None
    decided_at: str


class ScanResult(msgspec.Struct, frozen=True):
    """One output line of the offline scan for a valid post."""

    post_id: str
    verdict: Verdict
    hits: list[Hit]


class ScanError(msgspec.Struct, frozen=True):
    """One output line of the offline scan for a line that is not a valid post."""

    post_id: None
    verdict: Literal["error"]
    error: str


_post_decoder = msgspec.json.Decoder(Post)
_report_decoder = msgspec.json.Decoder(Report)
encoder = msgspec.json.Encoder()


def _poison(raw: bytes, exc: Exception) -> PoisonRecord:
    """The PoisonRecord for a decoding failure."""
    if isinstance(exc, msgspec.ValidationError):
        return PoisonRecord("schema", str(exc))
    if isinstance(exc, RecursionError):
        # msgspec skips unknown fields recursively; hostile nesting exhausts the stack.
        return PoisonRecord("invalid_json", "JSON nested too deeply")
    # Only pay for a full UTF-8 check on the rare record that failed to parse; it also gives
    # the byte position in the record, which msgspec's error does not.
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as utf_exc:
        return PoisonRecord("invalid_utf8", f"invalid UTF-8 at byte {utf_exc.start}")
    return PoisonRecord("invalid_json", str(exc))


_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def oversized(size: int, max_bytes: int) -> PoisonRecord:
    """The PoisonRecord of a record of `size` bytes, over the limit."""
    return PoisonRecord("oversized", f"record is {size} bytes, limit is {max_bytes}")


def _check_size(raw: bytes | None, max_bytes: int) -> bytes:
    if raw is None:
        raise PoisonRecord("invalid_json", "record has no value (tombstone)")
    if len(raw) > max_bytes:
        raise oversized(len(raw), max_bytes)
    return raw


def decode_post(raw: bytes | None, *, max_bytes: int, max_text_chars: int) -> Post:
    """Decode and validate one Post (on the hot path: one call, no copies).

    Raises:
        PoisonRecord: the record is unusable; `reason` says why.
    """
    raw = _check_size(raw, max_bytes)
    try:
        post: Post = _post_decoder.decode(raw)
    except _DECODE_ERRORS as exc:  # ValidationError is a DecodeError
        raise _poison(raw, exc) from None
    if _rfc3339(post.created_at) is None:
        raise PoisonRecord("schema", _NOT_RFC3339)
    text = post.text
    if not text or text.isspace():
        raise PoisonRecord("empty_text", "post text is empty")
    if len(text) > max_text_chars:
        raise PoisonRecord(
            "oversized", f"post text is {len(text)} characters, limit is {max_text_chars}"
        )
    return post


def decode_report(raw: bytes | None, *, max_bytes: int, max_text_chars: int) -> Report:
    """Decode and validate one Report.

    Raises:
        PoisonRecord: the record is unusable; `reason` says why.
    """
    raw = _check_size(raw, max_bytes)
    try:
        report: Report = _report_decoder.decode(raw)
    except _DECODE_ERRORS as exc:
        raise _poison(raw, exc) from None
    if _rfc3339(report.created_at) is None:
        raise PoisonRecord("schema", _NOT_RFC3339)
    longest = max(len(report.text), len(report.post_text or ""))
    if longest > max_text_chars:
        raise PoisonRecord(
            "oversized", f"report text is {longest} characters, limit is {max_text_chars}"
        )
    return report
