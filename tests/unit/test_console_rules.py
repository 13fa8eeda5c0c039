"""The console's pure rules: highlight segments, priority, decisions, masking, the catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.console import cases as rules
from pipeline.console.i18n import CATALOG, age_text, translate
from pipeline.console.roles import User, parse_sites, password_problem, valid_username
from pipeline.contract.messages import Hit
from pipeline.errors import PoisonRecord

TEMPLATES = Path(__file__).resolve().parents[2] / "pipeline" / "console" / "templates"


def hit(start: int, end: int, term: str = "t") -> Hit:
    return Hit(term, "watch", "c", start, end)


def test_segments_cut_at_hits_in_code_points() -> None:
    # 😀 is one code point but two UTF-16 units: offsets are code points
    text = "😀お前しね！"
    assert [(s.kind, s.text, s.hits) for s in rules.segments(text, [hit(3, 5)])] == [
        ("text", "😀お前", ()), ("hit", "しね", (0,)), ("text", "！", ())]


def test_overlapping_hits_share_a_segment() -> None:
    got = [(s.kind, s.text, s.hits) for s in rules.segments("abcdef", [hit(1, 4), hit(3, 6)])]
    assert got == [("text", "a", ()), ("hit", "bc", (0,)), ("hit", "d", (0, 1)),
                   ("hit", "ef", (1,))]


def test_hits_outside_the_text_are_clamped_and_empty_ones_dropped() -> None:
    got = [(s.kind, s.text) for s in rules.segments("abc", [hit(2, 99), hit(1, 1), hit(3, 2)])]
    assert got == [("text", "ab"), ("hit", "c")]
    assert rules.segments("", [hit(0, 3)]) == []


def test_bidi_and_zero_width_controls_are_shown_by_name() -> None:
    got = [(s.kind, s.text) for s in rules.segments("a\u202eb\u200bc\nd", [hit(1, 3)])]
    assert got == [("text", "a"), ("control", "U+202E"), ("hit", "b"), ("control", "U+200B"),
                   ("text", "c\nd")]


@pytest.mark.parametrize(("item", "reporters", "step", "expected"), [
    (50, 0, 5, 50), (50, 1, 5, 50), (50, 2, 5, 55), (30, 5, 5, 50), (90, 3, 5, 100),
    (95, 2, 5, 100), (60, 4, 0, 60)])
def test_case_priority(item: int, reporters: int, step: int, expected: int) -> None:
    assert rules.case_priority(item, reporters, step) == expected


def test_decisions_are_validated() -> None:
    assert rules.parse_decision("delete", "", " 荒らし ", 100) == rules.DecisionInput(
        "delete", None, "荒らし")
    assert rules.parse_decision("suspend", "3600", "", 10).duration_s == 3600
    assert rules.parse_decision("suspend", str(365 * 86400), "", 10).duration_s == 365 * 86400
    for decision, duration, note in (("ban", "", ""), ("suspend", "", ""),
                                     ("suspend", "3599", ""), ("suspend", "x", ""),
                                     ("suspend", str(365 * 86400 + 1), ""),
                                     ("warn", "", "x" * 11)):
        with pytest.raises(rules.DecisionError):
            rules.parse_decision(decision, duration, note, 10)


def test_masking_hides_hit_spans_and_controls() -> None:
    assert rules.masked("おまえしね\u202e", [hit(3, 5)]) == "おまえ＊＊"
    assert rules.masked("x" * 100, [], limit=5) == "xxxxx…"
    assert rules.excerpt("a\u200bb") == "ab"


def test_ids_are_stable_and_distinct() -> None:
    assert rules.case_id("s", "p") == rules.case_id("s", "p")
    assert rules.case_id("s", "p") != rules.case_id("s", "q")
    assert rules.decision_id("c", "k1") != rules.decision_id("c", "k2")


def test_timestamps() -> None:
    assert rules.epoch_s("2026-11-23T10:00:00Z", 0) == 1795428000.0
    assert rules.epoch_s("2026-11-23T10:00:00", 0) == 1795428000.0  # no zone: UTC
    assert rules.epoch_s("yesterday", 7.0) == 7.0
    assert rules.rfc3339(1795428000.25) == "2026-11-23T10:00:00.250Z"


def test_bad_records_are_poison() -> None:
    with pytest.raises(PoisonRecord, match="tombstone"):
        rules.decode_item(None)
    with pytest.raises(PoisonRecord) as exc:
        rules.decode_item(b'{"item_id": 1}')
    assert exc.value.reason == "schema"
    with pytest.raises(PoisonRecord) as exc:
        rules.decode_action(b"\xff\xfe")
    assert exc.value.reason == "invalid_utf8"


def test_roles_and_sites() -> None:
    staff = User(1, "s", "staff", frozenset({"a"}))
    chief = User(2, "c", "chief", frozenset({"*"}))
    assert staff.sees_site("a")
    assert not staff.sees_site("b")
    assert chief.sees_site("b")
    assert not staff.at_least("lead")
    assert chief.at_least("lead")
    assert chief.covers({"x", "y"})
    assert not staff.covers({"a", "b"})
    assert parse_sites(" a, b ,,") == frozenset({"a", "b"})
    assert valid_username("patrol.01")
    assert not valid_username("パトロール")
    assert not valid_username("")
    assert password_problem("123456789") == "error.password_short"
    assert password_problem("1234567890") is None


def test_every_catalog_key_exists_in_both_languages() -> None:
    assert set(CATALOG["ja"]) == set(CATALOG["en"])
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r't\("([a-z_]+\.[a-z0-9_]+)"\)', template.read_text()))
    assert used
    assert used - set(CATALOG["ja"]) == set()
    assert translate("en", "decision.expel") == "Expel"
    assert translate("ja", "decision.expel") == "強制退会"
    assert translate("fr", "decision.warn") == "警告"  # unknown language: Japanese
    assert translate("ja", "no.such") == "no.such"


def test_ages() -> None:
    assert [age_text(s, "en") for s in (None, 59, 60, 3599, 3600, 90061)] == [
        "—", "59s", "1m", "59m", "1h 0m", "1d 1h"]
    assert age_text(5400, "ja") == "1時間30分"
