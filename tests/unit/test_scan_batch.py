"""The offline scan on the batch path: chunks, bounded lines, and output equal to judging one
line at a time."""

from __future__ import annotations

import io
import json

import pytest

from pipeline.config import WorkerConfig
from pipeline.filter.judge import FilterCore
from pipeline.tools.sample import generate
from pipeline.tools.scan import Overlong, bounded_lines, chunks, scan_lines
from tests.reference import scan_one_at_a_time

POST = ('{"post_id":"%s","site_id":"site-01","user_id":"u1","text":%s,'
        '"created_at":"2026-11-23T10:00:00Z"}')
NG_SHINE = '{"term":"しね","mode":"ng","category":"abuse","start":%d,"end":%d}'


def _post(post_id: str, text: str) -> bytes:
    return (POST % (post_id, json.dumps(text, ensure_ascii=False))).encode()


# Lines chosen to break a batch: every kind of invalid line, the normalizer's sentinel (it
# sends a whole batch down the one-by-one path), control characters, a report where a post
# should be, a line ending in "\r\n", spaced and stretched words. Expected lines by hand.
SPECIAL: list[tuple[bytes, str]] = [
    (_post("ng", "お前しね"),
     '{"post_id":"ng","verdict":"ng","hits":[' + NG_SHINE % (2, 4) + "]}"),
    (_post("sentinel", "しね\ue000です"),
     '{"post_id":"sentinel","verdict":"ng","hits":[' + NG_SHINE % (0, 2) + "]}"),
    (_post("nul", "a\u0000しね"),
     '{"post_id":"nul","verdict":"ng","hits":[' + NG_SHINE % (2, 4) + "]}"),
    (_post("spaced", "し ね"),
     '{"post_id":"spaced","verdict":"ng","hits":[' + NG_SHINE % (0, 3) + "]}"),
    (b'{"report_id":"r1","site_id":"site-01","post_id":"p1","reporter_id":"u2",'
     b'"category":"abuse","created_at":"2026-11-23T10:00:00Z","post_text":"\xe3\x81\x97'
     b'\xe3\x81\xad"}',
     '{"post_id":null,"verdict":"error","error":"schema: Object missing required field '
     '`user_id`"}'),
    (b"", '{"post_id":null,"verdict":"error","error":"invalid_json: Input data was truncated"}'),
    (b"   ",
     '{"post_id":null,"verdict":"error","error":"invalid_json: Input data was truncated"}'),
    (b"\xff\xfe{",
     '{"post_id":null,"verdict":"error","error":"invalid_utf8: invalid UTF-8 at byte 0"}'),
    (b"[1]", '{"post_id":null,"verdict":"error","error":"schema: Expected `object`, got '
             '`array`"}'),
    (_post("blank", "  \u3000 "),
     '{"post_id":null,"verdict":"error","error":"empty_text: post text is empty"}'),
    (_post("long", "あ" * 201),
     '{"post_id":null,"verdict":"error","error":"oversized: post text is 201 characters, '
     'limit is 200"}'),
    (_post("crlf", "hello") + b"\r", '{"post_id":"crlf","verdict":"clean","hits":[]}'),
]
LIMITS = WorkerConfig(max_text_chars=200)


def _stream() -> tuple[list[bytes], dict[int, str]]:
    """Sample posts with the special lines spread through them: at the very start, in
    the middle of chunks, at chunk boundaries, at the end."""
    lines = [r.value for r in generate(300, seed=7, report_ratio=0.05, malformed=True)]
    expected: dict[int, str] = {}
    for n, (line, want) in enumerate(SPECIAL):
        at = 0 if n == 0 else min(len(lines), n * 23 + n % 3)
        lines.insert(at, line)
        expected = {(i + 1 if i >= at else i): w for i, w in expected.items()}
        expected[at] = want
    lines.append(SPECIAL[0][0])
    expected[len(lines) - 1] = SPECIAL[0][1]
    return [line + b"\n" for line in lines], expected


def _one_at_a_time(core: FilterCore, lines: list[bytes], limits: WorkerConfig) -> bytes:
    out = io.BytesIO()
    scan_one_at_a_time(core, lines, limits, out)
    return out.getvalue()


@pytest.mark.parametrize("batch", [1, 5, 64, 2000])
def test_special_lines_give_their_hand_written_results(default_core: FilterCore,
                                                       batch: int) -> None:
    lines, expected = _stream()
    out = io.BytesIO()
    limits = WorkerConfig(max_text_chars=200, max_batch_records=batch)
    scan_lines(default_core, lines, out, limits)
    written = out.getvalue().decode().split("\n")
    assert written[-1] == ""  # every line ends with "\n"
    assert len(written) - 1 == len(lines)
    assert {i: written[i] for i in expected} == expected


@pytest.mark.parametrize("batch", [1, 7, 2000])
def test_same_bytes_as_judging_one_line_at_a_time(default_core: FilterCore, batch: int) -> None:
    lines, _ = _stream()
    out = io.BytesIO()
    limits = WorkerConfig(max_text_chars=200, max_batch_records=batch)
    counts = scan_lines(default_core, lines, out, limits)
    reference = _one_at_a_time(default_core, lines, limits)
    assert out.getvalue() == reference
    verdicts = [json.loads(line)["verdict"] for line in reference.splitlines()]
    assert counts == {v: verdicts.count(v) for v in set(verdicts)}


def test_counts_by_verdict(default_core: FilterCore) -> None:
    lines = [line + b"\n" for line, _ in SPECIAL]
    counts = scan_lines(default_core, lines, io.BytesIO(), LIMITS)
    assert counts == {"ng": 4, "clean": 1, "error": 7}


def test_chunks_end_at_the_line_count_or_the_byte_budget() -> None:
    lines: list[bytes | Overlong] = [b"a" * 10, b"b" * 10, b"c" * 10, Overlong(99), b"d" * 10]
    assert [len(c) for c in chunks(lines, 2)] == [2, 2, 1]
    assert [len(c) for c in chunks(lines, 10, max_bytes=20)] == [2, 3]
    assert [len(c) for c in chunks(lines, 10, max_bytes=11)] == [2, 3]
    assert [len(c) for c in chunks(lines, 10, max_bytes=10)] == [1, 1, 1, 2]
    assert list(chunks([], 3)) == []


def test_bounded_lines_keep_lines_up_to_the_limit() -> None:
    stream = io.BytesIO(b"x" * 20 + b"\n" + b"y" * 20 + b"\r\n" + b"z" * 20)
    assert list(bounded_lines(stream, 20)) == [b"x" * 20 + b"\n", b"y" * 20 + b"\r\n",
                                               b"z" * 20]


def test_bounded_lines_drop_longer_lines_keeping_their_length() -> None:
    stream = io.BytesIO(b"x" * 21 + b"\n" + b"w" * 21 + b"\r\n" + b"v" * 23 + b"\n" + b"ok\n"
                        + b"u" * 30 + b"\r\r\n" + b"y" * 100_000 + b"\r\n" + b"z" * 23)
    got = list(bounded_lines(stream, 20))
    # 22 bytes fit ("x" * 21 goes on to decode_post, which rejects it the same way); 23 do not.
    assert [g.length if isinstance(g, Overlong) else g for g in got] == [
        b"x" * 21 + b"\n", 21, 23, b"ok\n", 30, 100_000, 23]


def test_an_overlong_line_reads_like_the_record_limit(default_core: FilterCore) -> None:
    line = _post("p", "x" * 40)  # 94 bytes of JSON around 42 of text
    limits = WorkerConfig(max_record_bytes=100)
    out = io.BytesIO()
    scan_lines(default_core, bounded_lines(io.BytesIO(line + b"\n\n"), 100), out, limits)
    assert out.getvalue().decode().splitlines() == [
        '{"post_id":null,"verdict":"error","error":"oversized: record is 136 bytes, limit is '
        '100"}',
        '{"post_id":null,"verdict":"error","error":"invalid_json: Input data was truncated"}']
    assert _one_at_a_time(default_core, [line], limits) == out.getvalue().splitlines()[0] + b"\n"
