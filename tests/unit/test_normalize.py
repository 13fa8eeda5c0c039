"""Normalization: the golden table, offsets back to the original, and the two paths agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.normalize import normalize, normalize_with_offsets, original_span

DATA = Path(__file__).resolve().parents[1] / "data"
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\t")


def unescape(text: str) -> str:
    """Turn the table's `\\uXXXX` and `\\t` escapes into the characters they name."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else "\t", text)


def read_table(name: str) -> list[list[str]]:
    rows = []
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    header_seen = False
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            continue
        rows.append(line.split("\t"))
    return rows


NORMALIZE_ROWS = read_table("normalize.tsv")


@pytest.mark.parametrize("row", NORMALIZE_ROWS, ids=[r[2] for r in NORMALIZE_ROWS])
def test_golden_normalize(row: list[str]) -> None:
    text, expected = unescape(row[0]), unescape(row[1])
    assert normalize(text) == expected
    assert normalize_with_offsets(text)[0] == expected


def test_offsets_point_back_to_the_original() -> None:
    text = "おまえ　ｼ\u200bﾈ！"
    normalized, origin = normalize_with_offsets(text)
    assert normalized == "おまえ しね!"
    start = normalized.index("しね")
    o_start, o_end = original_span(origin, start, start + 2)
    assert text[o_start:o_end] == "ｼ\u200bﾈ"


def test_expanding_character_maps_to_itself() -> None:
    text = "a㍿b"
    normalized, origin = normalize_with_offsets(text)
    start = normalized.index("会社")
    assert original_span(origin, start, start + 2) == (1, 2)
    assert len(origin) == len(normalized) + 1


def test_table_cache_does_not_change_results() -> None:
    text = "".join(chr(cp) for cp in range(0x3000, 0x3100))
    assert normalize(text) == normalize(text) == normalize_with_offsets(text)[0]
