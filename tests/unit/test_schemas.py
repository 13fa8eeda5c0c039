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
    (None, "invalid_json", "tombstone"),
    (b"", "invalid_json", ""),
    (b"[1,2]", "schema", "Expected `object`"),
    (b'{"post_id":"","site_id":"s","user_id":"u","text":"x","created_at":"t"}', "schema",
     "post_id"),
    (b'{"post_id":"p","site_id":"s","user_id":"u","text":"\\ud800","created_at":"t"}',
     "invalid_json", ""),
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


def test_report_decoding() -> None:
    raw = (b'{"report_id":"r1","site_id":"s","post_id":"p","reporter_id":"x",'
           b'"category":"violating_post","created_at":"t"}')
    report = decode_report(raw, **LIMITS)
    assert report.text == ""
    assert report.post_text is None
    with pytest.raises(PoisonRecord) as info:
        decode_report(raw.replace(b"violating_post", b"nonsense"), **LIMITS)
    assert info.value.reason == "schema"
    assert "category" in info.value.message


def test_stable_id_is_deterministic_and_distinct() -> None:
    assert stable_id("a", "b") == stable_id("a", "b")
    assert stable_id("a", "b") != stable_id("ab")
    assert len(stable_id("x")) == 32


def test_poison_reason_must_be_known() -> None:
    with pytest.raises(ValueError, match="unknown poison reason"):
        PoisonRecord("whatever", "x")


def test_encoded_post_roundtrips() -> None:
    post = Post("p", "s", "u", "テキスト", "t", lang="ja")
    assert decode_post(msgspec.json.encode(post), **LIMITS) == post
