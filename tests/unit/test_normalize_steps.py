"""The steps of normalization, each on its own, with expectations written by hand.

Some steps build a table or a pattern once, at import (`_gap_rules`, `_is_separator`, `_Table`):
these tests call the builders themselves, so a change to one is judged by what the pattern or
table it builds now does, not by the copy built when the module was imported.
"""

from __future__ import annotations

import re

import pytest

from pipeline.text.normalize import (
    _BRACKETED_RE,
    _REPEAT_RE,
    SENTINEL,
    TermForm,
    _base_view,
    _blank_kaomoji,
    _gap_rules,
    _is_separator,
    _lettered,
    _Table,
    _without_trailing_stretch,
    term_form,
)
from tests.tables import read_table, unescape

NORMALIZE_ROWS = read_table("normalize.tsv")


def test_the_deletion_pass_gives_the_golden_match_views() -> None:
    # One test over every row, not one per row: mutmut runs pytest twice in one process, and
    # parametrize ids with non-ASCII characters come out escaped twice the second time.
    deletions = re.compile(_gap_rules())
    wrong = []
    for text, _, match, note in NORMALIZE_ROWS:
        got = _REPEAT_RE.sub("", deletions.sub("", _lettered(_base_view(unescape(text)))))
        if got != unescape(match):
            wrong.append((note, got))
    assert wrong == []


@pytest.mark.parametrize(("ch", "separator"), [
    ("!", True), ("、", True), ("★", True), ("_", True), ("(", True), ("~", True), ("〜", True),
    (" ", True), ("\u3000", True),
    ("a", False), ("あ", False), ("1", False), ("ー", False), ("漢", False), (SENTINEL, False),
])
def test_is_separator(ch: str, separator: bool) -> None:
    assert _is_separator(ch) is separator


def test_a_table_fills_itself_from_its_function_and_caches_it() -> None:
    calls: list[str] = []

    def upper(ch: str) -> str:
        calls.append(ch)
        return ch.upper()

    table = _Table(upper)
    assert "abca".translate(table) == "ABCA"
    assert calls == ["a", "b", "c"]
    assert table == {ord("a"): "A", ord("b"): "B", ord("c"): "C"}


@pytest.mark.parametrize(("text", "blanked"), [
    ("(^_^)", True),     # symbols only
    ("(^ω^)", True),     # a Greek letter among symbols
    ("(o_o)", True),     # two Latin letters and a symbol: still a face
    ("(笑)", True),      # an emotion mark
    ("(o_o_o)", False),  # three Latin letters: reads as text
    ("(abc!)", False),
    ("(ok)", False),     # letters and no symbol: a word
    ("(中)", False),     # a Japanese word character
    ("(2)", False),
])
def test_bracketed_kaomoji_are_blanked_and_words_are_kept(text: str, blanked: bool) -> None:
    expected = " " * len(text) if blanked else text
    assert _BRACKETED_RE.sub(_blank_kaomoji, text) == expected


@pytest.mark.parametrize(("form", "expected"), [
    # A vowel stretching the kana before it ends no key (しよう → しよ, うぜえ → うぜ) ...
    (TermForm("しよう", (1, 1, 1), ()), TermForm("しよ", (1, 1), ())),
    (TermForm("うぜえ", (1, 1, 2), ()), TermForm("うぜ", (1, 1), ())),
    # ... and only gaps inside the shortened key stay.
    (TermForm("しねよう", (1, 1, 1, 1), (0, 1, 2)), TermForm("しねよ", (1, 1, 1), (0, 1))),
    # A two-letter key is never shortened, nor is one that ends otherwise.
    (TermForm("よう", (1, 1), ()), TermForm("よう", (1, 1), ())),
    (TermForm("しね", (1, 1), (0,)), TermForm("しね", (1, 1), (0,))),
    (TermForm("楽しい", (1, 1, 1), ()), TermForm("楽しい", (1, 1, 1), ())),
])
def test_a_key_drops_a_trailing_stretching_vowel(form: TermForm, expected: TermForm) -> None:
    assert _without_trailing_stretch(form) == expected


@pytest.mark.parametrize(("term", "expected"), [
    ("しっね", TermForm("しね", (1, 1), (0,))),
    ("ぶっ殺す", TermForm("ぶ殺す", (1, 1, 1), (0,))),
    ("・ぶっ殺す", TermForm("ぶ殺す", (1, 1, 1), (0,))),    # gaps count from the key's start
    ("・っぶっ殺す", TermForm("ぶ殺す", (1, 1, 1), (0,))),  # nothing before the key is a gap
])
def test_term_form_gaps(term: str, expected: TermForm) -> None:
    assert term_form(term) == expected
