"""Decoding the enforcer's input records, and its metric families."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from pipeline.contract.messages import Decision, Violation, encoder
from pipeline.enforcer.events import decode_decision, decode_violation
from pipeline.enforcer.metrics import EnforcerMetrics
from pipeline.enforcer.rules import Policy, apply
from pipeline.enforcer.settings import EnforcerConfig, LadderConfig
from pipeline.errors import PoisonRecord

VIOLATION = Violation(violation_id="v1", site_id="site-01", user_id="u1", post_id="p1",
                      categories=["abuse"], terms=["x"], source="filter",
                      created_at="2026-01-01T00:00:00Z", detected_at="2026-01-01T00:00:01Z")
DECISION = Decision(decision_id="d1", item_id="i1", site_id="site-01", user_id="u1",
                    post_id="p1", decision="delete", duration_s=None, note="", reviewer="r",
                    role="staff", overturns=None, decided_at="2026-01-01T00:00:02Z")
KEY = b"site-01:u1"


def test_decode_good_records() -> None:
    assert decode_violation(encoder.encode(VIOLATION), KEY, max_bytes=10_000) == VIOLATION
    assert decode_decision(encoder.encode(DECISION), KEY, max_bytes=10_000) == DECISION


@pytest.mark.parametrize(("raw", "key", "reason", "words"), [
    (None, KEY, "invalid_json", "tombstone"),
    (b"{", KEY, "invalid_json", "violation"),
    (b'{"violation_id": "\xff"}', KEY, "invalid_utf8", "byte"),
    (b'{"violation_id": "v1"}', KEY, "schema", "violation"),
    (b"x" * 101, KEY, "oversized", "101 bytes"),
    (encoder.encode(VIOLATION), b"site-01:u2", "schema", "not the event's site_id:user_id"),
    (encoder.encode(VIOLATION), None, "schema", "record key None"),
])
def test_decode_bad_records(raw: bytes | None, key: bytes | None, reason: str,
                            words: str) -> None:
    with pytest.raises(PoisonRecord) as caught:
        decode_violation(raw, key, max_bytes=100 if raw and len(raw) == 101 else 10_000)
    assert caught.value.reason == reason
    assert words in caught.value.message


def test_record_of_exactly_the_limit_is_accepted() -> None:
    raw = encoder.encode(DECISION)
    assert decode_decision(raw, KEY, max_bytes=len(raw)) == DECISION
    with pytest.raises(PoisonRecord, match=f"is {len(raw)} bytes, limit is {len(raw) - 1}"):
        decode_decision(raw, KEY, max_bytes=len(raw) - 1)


def test_metrics_count_outcomes_with_bounded_labels() -> None:
    registry = CollectorRegistry()
    metrics = EnforcerMetrics(registry, categories={"abuse", "crime"})
    policy = Policy.of(LadderConfig(), EnforcerConfig())
    first = apply(None, VIOLATION, "t", policy)
    crime = Violation(**{**{f: getattr(VIOLATION, f) for f in VIOLATION.__struct_fields__},
                         "violation_id": "v2", "post_id": "p2", "categories": ["weird_new"]})
    second = apply(first.ledger, crime, "t", policy)  # weight 1 + 1: warn
    replay = apply(second.ledger, crime, "t", policy)
    metrics.count([first, second, replay])

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("mimamori_enforcer_strikes_total", category="abuse") == 1
    assert value("mimamori_enforcer_strikes_total", category="other") == 1  # not in the ladder
    assert value("mimamori_enforcer_strikes_total", category="weird_new") is None
    assert value("mimamori_enforcer_actions_total", action="warn", source="escalation") == 1
    assert value("mimamori_enforcer_ladder_transitions_total", to="warn") == 1
    assert value("mimamori_enforcer_ladder_transitions_total", to="expel") == 0
    assert value("mimamori_enforcer_replays_skipped_total") == 1
    assert value("mimamori_enforcer_overturns_total") == 0
    assert value("mimamori_enforcer_ledger_users") == 0
    assert value("mimamori_enforcer_restore_seconds_count") == 0
