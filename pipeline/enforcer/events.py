"""Decoding the enforcer's input records: Violations and Decisions. Pure.

A record that cannot be used raises PoisonRecord with the DLQ reason: no value, too large, not
UTF-8, not JSON, not the schema, or a key that is not the event's `site_id:user_id` (the
ledger's partitioning rests on it).
"""

from __future__ import annotations

from typing import Any

import msgspec

from pipeline.contract.ids import user_key
from pipeline.contract.messages import Decision, Violation
from pipeline.errors import PoisonRecord

_violations = msgspec.json.Decoder(Violation)
_decisions = msgspec.json.Decoder(Decision)


def _decode(raw: bytes | None, decoder: msgspec.json.Decoder[Any], what: str,
            max_bytes: int) -> object:
    if raw is None:
        raise PoisonRecord("invalid_json", f"{what} record has no value (tombstone)")
    if len(raw) > max_bytes:
        raise PoisonRecord("oversized", f"{what} record is {len(raw)} bytes, limit is {max_bytes}")
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise PoisonRecord("schema", f"{what}: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as utf:
            raise PoisonRecord("invalid_utf8", f"invalid UTF-8 at byte {utf.start}") from None
        # msgspec's RecursionError comes from hostile nesting.
        message = "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise PoisonRecord("invalid_json", f"{what}: {message}") from None


def decode_violation(raw: bytes | None, key: bytes | None, *, max_bytes: int) -> Violation:
    """A Violation from `mod.violations`.

    Raises:
        PoisonRecord: the record is unusable; `reason` says why.
    """
    violation = _decode(raw, _violations, "violation", max_bytes)
    assert isinstance(violation, Violation)
    _check_key(key, violation.site_id, violation.user_id)
    return violation


def decode_decision(raw: bytes | None, key: bytes | None, *, max_bytes: int) -> Decision:
    """A Decision from `mod.decisions`.

    Raises:
        PoisonRecord: the record is unusable; `reason` says why.
    """
    decision = _decode(raw, _decisions, "decision", max_bytes)
    assert isinstance(decision, Decision)
    _check_key(key, decision.site_id, decision.user_id)
    return decision


def _check_key(key: bytes | None, site_id: str, user_id: str) -> None:
    if key != user_key(site_id, user_id):
        shown = key[:80].decode("utf-8", "replace") if key is not None else None
        raise PoisonRecord(
            "schema", f"record key {shown!r} is not the event's site_id:user_id: the ledger "
                      "of a user must live in one partition")
