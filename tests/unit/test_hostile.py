"""Hostile input: random bytes and Unicode, pathological strings, huge and deeply nested JSON.

Nothing crashes, nothing hangs (each test is bounded by pytest-timeout; the pathological cases
have their own tighter bound), and every bad record is a PoisonRecord with a reason, which the
worker sends to the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.contract.messages import Post, decode_post, decode_report, encoder
from pipeline.errors import PoisonRecord
from pipeline.filter.judge import FilterCore
from pipeline.text.detectors import detect_contacts
from pipeline.text.normalize import track, views

LIMITS = {"max_bytes": 65_536, "max_text_chars": 10_000}
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Every plane, combining sequences, bidi and other format controls, private use.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=["Cs"]), max_size=300)
TRICKY = st.text(st.sampled_from(
    "しねシネｼﾈﾞﾟa1@$!|. -ー〜・\u200b\u200d\u202e\u2066\ufeff\u0301\u0336\u3099\u309a"
    "ＡＢ０９Ⓐ𝐟ѕυ0９〇ぜろ@＠"), max_size=300)


def poison_reason(decode: Callable[..., object], raw: bytes) -> str | None:
    """None when `raw` decodes; the PoisonRecord reason otherwise (any other error escapes)."""
    try:
        decode(raw, **LIMITS)
    except PoisonRecord as exc:
        return exc.reason
    return None


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_decode_or_poison(raw: bytes) -> None:
    for decode in (decode_post, decode_report):
        assert poison_reason(decode, raw) in {None, *PoisonRecord.REASONS}


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
                    lambda children: st.lists(children) | st.dictionaries(ANY_TEXT, children),
                    max_leaves=50))
def test_random_json_decodes_or_poisons(value: object) -> None:
    try:
        raw = encoder.encode(value)
    except (TypeError, ValueError, OverflowError):
        return  # not representable as JSON (NaN keys and the like)
    assert poison_reason(decode_post, raw) in (
        None, "schema", "invalid_json", "oversized", "empty_text")


@pytest.mark.parametrize(("raw", "reason"), [
    (b"[" * 200_000, "schema"),
    (b'{"a":' * 200_000, "invalid_json"),  # msgspec: "JSON is malformed" or too deep
    (b'{"post_id":"p","site_id":"s","user_id":"u","created_at":"2026-11-23T10:00:00Z","text":"x","x":'
     + b'{"a":' * 50_000 + b"1" + b"}" * 50_001, "invalid_json"),
    (b'{"post_id":"p","site_id":"s","user_id":"u","created_at":"2026-11-23T10:00:00Z","text":"'
     + b"a" * 10_000_000 + b'"}', "oversized"),
])
def test_deep_and_huge_json(raw: bytes, reason: str) -> None:
    with pytest.raises(PoisonRecord) as info:
        decode_post(raw, max_bytes=64 * 1024 * 1024, max_text_chars=10_000)
    assert info.value.reason == reason
    assert info.value.message


def test_hostile_nesting_in_an_unknown_field_is_reported_as_such() -> None:
    # msgspec skips an unknown field recursively: 50,000 levels exhaust the stack.
    raw = (b'{"post_id":"p","site_id":"s","user_id":"u","created_at":"2026-11-23T10:00:00Z",'
           b'"text":"x","x":' + b"[" * 50_000 + b"]" * 50_000 + b"}")
    with pytest.raises(PoisonRecord) as info:
        decode_post(raw, max_bytes=64 * 1024 * 1024, max_text_chars=10_000)
    assert (info.value.reason, info.value.message) == ("invalid_json", "JSON nested too deeply")


@FUZZ
@given(st.one_of(ANY_TEXT, TRICKY))
def test_normalization_paths_agree_and_spans_stay_in_the_text(text: str) -> None:
    fast = views(text)
    base, match = track(text)
    assert (base.text, match.text) == (fast.base, fast.match)
    for view in (base, match):
        assert len(view.starts) == len(view.ends) == len(view.runs) == len(view.text)
        for start, end in zip(view.starts, view.ends, strict=True):
            assert 0 <= start < end <= len(text)


@FUZZ
@given(text=st.one_of(ANY_TEXT, TRICKY))
def test_detection_never_crashes_and_hits_point_into_the_text(
    text: str, default_core: FilterCore,
) -> None:
    detect_contacts(views(text).base)
    for hit in default_core.hits(text, "site-01"):
        assert 0 <= hit.start < hit.end <= len(text)


# Not ー: after a kana it reads as that kana's vowel (しーね is the しーね of 楽しーね).
SEPARATORS = st.text(st.sampled_from(" 　・.★_-\u200b\u200d\u2060*~💀"), min_size=1, max_size=3)


@FUZZ
@given(prefix=st.text(st.sampled_from("今日はあの人にこう言ったよ"), max_size=10),
       separators=st.lists(SEPARATORS, min_size=1, max_size=1),
       term=st.sampled_from(["しね", "死ね", "パパ活", "殺すぞ", "援交", "ライン交換"]))
def test_separators_inserted_into_a_term_are_caught(
    prefix: str, separators: list[str], term: str, default_core: FilterCore,
) -> None:
    evasive = separators[0].join(term)
    text = f"{prefix}「{evasive}」"
    terms = {h.term for h in default_core.hits(text, "site-01")}
    assert term in terms, text


PATHOLOGICAL = {
    "letters": "a" * 10_000,
    "letters_then_digit": "a" * 9_999 + "1",
    "dotted": "a." * 5_000,
    "digits": "0" * 10_000,
    "digits_spaced": "0 " * 5_000,
    "at_signs": "a@" * 5_000,
    "mail_like": "a" * 60 + "@" + "b." * 4_900,
    "kana": "し" * 10_000,
    "kana_spaced": "し " * 5_000,
    "long_vowels": "しー" * 5_000,
    "spelled_zero": "ぜろ" * 5_000,
    "combining": "a" + "\u0301" * 9_999,
    "voiced_marks": "\u3099" * 10_000,
    "bidi": "\u202e\u2066" * 5_000,
    "emoji": "💀" * 10_000,
    "separators": "・" * 10_000,
    "spaces": " " * 10_000,
    "id_like": "id:" * 3_000,
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_text_finishes(name: str, default_core: FilterCore) -> None:
    text = PATHOLOGICAL[name]
    hits = default_core.hits(text, "site-01")
    assert all(0 <= h.start < h.end <= len(text) for h in hits)
    verdict, _ = default_core.scan(Post("p", "s", "u", text, "t"))
    assert verdict in ("ng", "review", "clean")


@FUZZ
@given(texts=st.lists(st.one_of(ANY_TEXT, TRICKY), min_size=1, max_size=8))
def test_batches_judge_each_text_as_if_alone(texts: list[str], default_core: FilterCore) -> None:
    sites = ["site-01"] * len(texts)
    assert default_core.hits_batch(texts, sites) == [
        default_core._hits_alone(text, "site-01") for text in texts]
