"""Message schemas: decoding rules, DLQ reasons, stable ids, schema evolution."""

from __future__ import annotations

import msgspec
import pytest

from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Post, decode_post, decode_report
from pipeline.errors import PoisonRecord
from pipeline.tools.sample import malformed_records

LIMITS = {"max_bytes": 65_536, "max_text_chars": 10_000}
GOOD = (b'{"post_id":"p1","site_id":"s","user_id":"u","text":"hi",'
        b'"created_at":"2026-11-23T00:00:00Z"}')


def test_good_post_and_unknown_fields_ignored() -> None:
    raw = GOOD[:-1] + b',"future_field":{"x":[1,2]},"title":"t"}'
    post = decode_post(raw, **LIMITS)
    assert post == Post("p1", "s", "u", "hi", "2026-11-23T00:00:00Z", title="t")


@pytest.mark.parametrize("record", malformed_records(), ids=lambda r: r.kind)
def test_every_malformed_kind_gets_its_reason(record: object) -> None:
    from pipeline.tools.sample import SampleRecord

    assert isinstance(record, SampleRecord)
    with pytest.raises(PoisonRecord) as info:
        decode_post(record.value, **LIMITS)
    assert info.value.reason == record.kind


@pytest.mark.parametrize(("raw", "reason", "fragment"), [
    (None, "invalid_json", "record has no value (tombstone)"),
    (b"", "invalid_json", "Input data was truncated"),
    (b"[1,2]", "schema", "Expected `object`"),
    (b'{"post_id":"","site_id":"s","user_id":"u","text":"x",'
     b'"created_at":"2026-11-23T10:00:00Z"}', "schema", "post_id"),
    (b'{"post_id":"p","site_id":"s","user_id":"u","text":"\\ud800",'
     b'"created_at":"2026-11-23T10:00:00Z"}', "invalid_json", ""),
    (b"x" * 70_000, "oversized", "70000 bytes"),
    (GOOD.replace(b'"hi"', b'"\\u3042\\u3042"'), None, ""),
])
def test_decode_edge_cases(raw: bytes | None, reason: str | None, fragment: str) -> None:
    if reason is None:
        assert decode_post(raw, **LIMITS).text == "ああ"
        return
    with pytest.raises(PoisonRecord) as info:
        decode_post(raw, **LIMITS)
    assert info.value.reason == reason
    assert fragment in info.value.message


@pytest.mark.parametrize(("created_at", "ok"), [
    ("2026-11-23T10:00:00Z", True),
    ("2026-11-23t10:00:00z", True),
    ("2026-11-23T19:00:00.123456+09:00", True),
    ("2026-12-31T23:59:60-00:00", True),  # a leap second
    ("2026-11-23 10:00:00Z", False),
    ("2026-11-23T10:00:00", False),  # no offset
    ("2026-11-23", False),
    ("2026-13-01T00:00:00Z", False),
    ("2026-11-32T00:00:00Z", False),
    ("2026-11-23T24:00:00Z", False),
    ("2026-11-23T10:00:00+9:00", False),
    ("1700000000", False),
    ("", False),
])
def test_created_at_must_be_rfc3339(created_at: str, ok: bool) -> None:
    raw = GOOD.replace(b"2026-11-23T00:00:00Z", created_at.encode())
    assert created_at.encode() in raw
    if ok:
        assert decode_post(raw, **LIMITS).created_at == created_at
        return
    with pytest.raises(PoisonRecord) as info:
        decode_post(raw, **LIMITS)
    assert (info.value.reason, info.value.message) == (
        "schema", "Expected an RFC 3339 date-time - at `$.created_at`")


def test_report_decoding() -> None:
    raw = (b'{"report_id":"r1","site_id":"s","post_id":"p","reporter_id":"x",'
           b'"category":"violating_post","created_at":"2026-11-23T10:00:00Z"}')
    report = decode_report(raw, **LIMITS)
    assert report.text == ""
    assert report.post_text is None
    with pytest.raises(PoisonRecord) as info:
        decode_report(raw.replace(b"violating_post", b"nonsense"), **LIMITS)
    assert info.value.reason == "schema"
    assert "category" in info.value.message
    with pytest.raises(PoisonRecord) as info:
        decode_report(raw.replace(b"10:00:00Z", b"10:00:00"), **LIMITS)
    assert (info.value.reason, info.value.message) == (
        "schema", "Expected an RFC 3339 date-time - at `$.created_at`")


def test_a_bad_created_at_is_named_before_an_empty_text() -> None:
    raw = GOOD.replace(b"2026-11-23T00:00:00Z", b"yesterday")
    assert b"yesterday" in raw
    assert b'"text":"hi"' in raw
    with pytest.raises(PoisonRecord) as info:
        decode_post(raw.replace(b'"text":"hi"', b'"text":""'), **LIMITS)
    assert info.value.message == "Expected an RFC 3339 date-time - at `$.created_at`"


def test_stable_id_is_deterministic_and_distinct() -> None:
    assert stable_id("a", "b") == stable_id("a", "b")
    assert stable_id("a", "b") != stable_id("ab")
    assert len(stable_id("x")) == 32


def test_poison_reason_must_be_known() -> None:
    with pytest.raises(ValueError, match="unknown poison reason"):
        PoisonRecord("whatever", "x")


def test_encoded_post_roundtrips() -> None:
    post = Post("p", "s", "u", "テキスト", "2026-11-23T19:00:00.123+09:00", lang="ja")
    assert decode_post(msgspec.json.encode(post), **LIMITS) == post


def _post_of(text: str) -> bytes:
    return msgspec.json.encode({"post_id": "p", "site_id": "s", "user_id": "u", "text": text,
                                "created_at": "2026-11-23T10:00:00Z"})


@pytest.mark.parametrize(("chars", "ok"), [(100, True), (101, False)])
def test_text_limit_is_inclusive(chars: int, ok: bool) -> None:
    raw = _post_of("あ" * chars)
    if ok:
        assert len(decode_post(raw, max_bytes=10_000, max_text_chars=100).text) == chars
        return
    with pytest.raises(PoisonRecord) as info:
        decode_post(raw, max_bytes=10_000, max_text_chars=100)
    assert (info.value.reason, info.value.message) == (
        "oversized", "post text is 101 characters, limit is 100")


@pytest.mark.parametrize(("extra", "ok"), [(0, True), (1, False)])
def test_record_byte_limit_is_inclusive(extra: int, ok: bool) -> None:
    raw = _post_of("x")
    limit = len(raw) - extra
    if ok:
        assert decode_post(raw, max_bytes=limit, max_text_chars=100).text == "x"
        return
    with pytest.raises(PoisonRecord) as info:
        decode_post(raw, max_bytes=limit, max_text_chars=100)
    assert info.value.reason == "oversized"
    assert info.value.message == f"record is {len(raw)} bytes, limit is {limit}"


@pytest.mark.parametrize(("field", "chars", "ok"), [
    ("post_text", 100, True), ("post_text", 101, False), ("text", 100, True), ("text", 101, False),
])
def test_report_text_limits_are_inclusive(field: str, chars: int, ok: bool) -> None:
    raw = msgspec.json.encode({"report_id": "r", "site_id": "s", "post_id": "p",
                               "reporter_id": "x", "category": "other",
                               "created_at": "2026-11-23T10:00:00Z", field: "あ" * chars})
    if ok:
        decode_report(raw, max_bytes=10_000, max_text_chars=100)
        return
    with pytest.raises(PoisonRecord) as info:
        decode_report(raw, max_bytes=10_000, max_text_chars=100)
    assert (info.value.reason, info.value.message) == (
        "oversized", "report text is 101 characters, limit is 100")


@pytest.mark.parametrize("decode", [decode_post, decode_report])
def test_record_level_dlq_messages_word_for_word(decode: object) -> None:
    """What an operator reads in a DLQ record's `dlq.message` header."""
    assert callable(decode)
    for raw, reason, message in [
        (None, "invalid_json", "record has no value (tombstone)"),
        (b"x" * 65_537, "oversized", "record is 65537 bytes, limit is 65536"),
        (b'{"post_id":\xff', "invalid_utf8", "invalid UTF-8 at byte 11"),
    ]:
        with pytest.raises(PoisonRecord) as info:
            decode(raw, **LIMITS)
        assert (info.value.reason, info.value.message) == (reason, message)
