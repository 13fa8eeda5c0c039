"""Normalization: the golden table, offsets back to the original, both paths agree."""

from __future__ import annotations

import random
import sys

import pytest

from pipeline.text.normalize import (
    _COMPOSE_RE,
    _SEPARATOR_TABLE,
    SENTINEL,
    SEPARATORS_END,
    _compose,
    _compose_marks,
    _is_separator,
    normalize,
    term_form,
    term_forms,
    track,
    views,
)
from tests.tables import read_table, unescape

NORMALIZE_ROWS = read_table("normalize.tsv")


@pytest.mark.parametrize("row", NORMALIZE_ROWS, ids=[r[3] for r in NORMALIZE_ROWS])
def test_golden_normalize(row: list[str]) -> None:
    text, base, match = unescape(row[0]), unescape(row[1]), unescape(row[2])
    assert views(text) == views(text).__class__(base, match)
    tracked_base, tracked_match = track(text)
    assert (tracked_base.text, tracked_match.text) == (base, match)
    assert len(tracked_match.starts) == len(tracked_match.ends) == len(match)


def test_spans_point_back_to_the_text_as_written() -> None:
    text = "おまえ　ｼ\u200b・ﾈ！"
    _, match = track(text)
    start = match.text.index("しね")
    o_start, o_end = match.span(start, start + 2)
    assert text[o_start:o_end] == "ｼ\u200b・ﾈ"


def test_stretched_letters_belong_to_the_span() -> None:
    text = "you fuuuuck!"
    _, match = track(text)
    start = match.text.index("fuck")
    assert text[slice(*match.span(start, start + 4))] == "fuuuuck"
    assert match.runs[start:start + 4] == [1, 4, 1, 1]


def test_voiced_mark_belongs_to_its_kana() -> None:
    text = "ﾊﾟﾊﾟ活"
    _, match = track(text)
    assert match.text == "ぱ活"
    assert text[slice(*match.span(0, 2))] == text
    assert match.runs[0] == 2


def test_expanding_character_maps_to_itself() -> None:
    text = "a㍿b"
    base, _ = track(text)
    start = base.text.index("会社")
    assert base.span(start, start + 2) == (1, 2)


def test_normalize_is_idempotent_on_terms() -> None:
    for row in NORMALIZE_ROWS:
        match = unescape(row[2])
        assert normalize(match) == normalize(normalize(match))


def test_table_cache_does_not_change_results() -> None:
    text = "".join(chr(cp) for cp in range(0x3000, 0x3100))
    assert views(text) == views(text)
    assert track(text)[1].text == views(text).match


def test_term_forms_batch_agrees_with_the_tracking_path() -> None:
    """`term_forms` (joined C-level passes) must give every term exactly what `term_form`
    (the tracking path) gives it: repeated letters, edge spaces, empty terms, the sentinel."""
    rng = random.Random(7)
    alphabet = [*"abt ー~〜　ｶﾞかが\u3099はﾊﾟ1!@$-.・、アっもおIｰ#+", "\u200b", "\t", SENTINEL,
                "Ⅳ", "\ue001"]
    terms = [unescape(row[0]) for row in NORMALIZE_ROWS]
    terms += ["butt", "fuuuck", "  ａｂ　ｃ  ", "", "   ", "ー", "a" + SENTINEL + "b", "ぶっ殺す",
              "LINE 交換", "ブース", "うぜー", "きもおおい"]
    terms += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
              for _ in range(3000)]
    batch = term_forms(terms)
    assert [term_form(t) for t in terms] == batch
    assert any(f.gaps for f in batch)  # a term with a gap took the tracking path
    assert any(r > 1 for f in batch for r in f.runs)  # the repeated-letter path was taken
    assert term_forms([]) == []


def test_fast_voiced_mark_composition_agrees_with_the_pattern() -> None:
    """The fast path composes voiced marks by splitting at them, the tracking path with
    `_COMPOSE_RE`: marks at the start, in runs, after a kana that takes only the other mark,
    after the sentinel and after non-kana must come out the same."""
    rng = random.Random(11)
    alphabet = ["か", "は", "う", "あ", "ゝ", "x", " ", SENTINEL, "\u3099", "\u309a"]
    texts = ["", "\u3099", "か\u3099\u3099", "う\u309a", "ゔ\u3099", "は\u309a\u3099は"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
              for _ in range(5000)]
    for text in texts:
        assert _compose_marks(text) == _COMPOSE_RE.sub(_compose, text), repr(text)


def test_every_separator_is_in_the_prebuilt_table() -> None:
    """The separator table is built below `SEPARATORS_END` only; no punctuation mark or
    symbol may lie above it in this Python's Unicode database."""
    beyond = [cp for cp in range(SEPARATORS_END, sys.maxunicode + 1) if _is_separator(chr(cp))]
    assert beyond == []
    assert "、。！😀★".translate(_SEPARATOR_TABLE) == "     "
