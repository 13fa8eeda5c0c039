"""Look-alike letters: the map built from Unicode's data, and the steps that build it.

The map is built once and cached; these tests build it afresh (`__wrapped__`), so what is
checked is what the code builds now. Expectations are the letters as a reader sees them.
"""

from __future__ import annotations

import pytest

from pipeline.text.confusables import _ascii_twin, _is_japanese, _strip_marks, confusable_map

FRESH = confusable_map.__wrapped__()


@pytest.mark.parametrize(("ch", "twin"), [
    ("ѕ", "s"), ("а", "a"), ("е", "e"), ("і", "i"),  # Cyrillic
    ("к", "k"),   # Cyrillic ka, through its capital К
    ("ё", "e"),   # accents stripped first
    ("ο", "o"), ("υ", "u"),  # Greek
    ("ƒ", "f"), ("ɡ", "g"),  # Latin letters NFKC leaves alone
    ("🅐", "a"), ("🅰", "a"), ("🇦", "a"), ("ᴀ", "a"), ("ʙ", "b"),  # styled, by name
])
def test_look_alike_letters_map_to_their_ascii_twin(ch: str, twin: str) -> None:
    assert FRESH[ch] == twin


@pytest.mark.parametrize("ch", [
    "〇", "一", "日", "ー", "ｰ",  # Japanese is never folded
    "×",                         # a symbol stays a symbol
    "a", "ａ", "ß", "Ⅰ",          # ASCII, or already folded by NFKC and case folding
    "ж",                         # a letter with no ASCII look-alike
])
def test_characters_that_are_not_mapped(ch: str) -> None:
    assert ch not in FRESH


@pytest.mark.parametrize(("text", "bare"), [
    ("é", "e"), ("Å", "A"), ("ab", "ab"),
    ("\u200fé\u200e", "e"),  # the bidi marks the data wraps right-to-left letters in
    ("Xé", "Xe"),             # and nothing else
])
def test_strip_marks(text: str, bare: str) -> None:
    assert _strip_marks(text) == bare


@pytest.mark.parametrize(("targets", "styled", "twin"), [
    ([], {}, None),
    ([{"c": "s"}], {}, "s"),
    ([{"c": "S"}], {}, "s"),              # case folded
    ([{"c": "ś"}], {}, "s"),              # marks stripped
    ([{"c": "rn"}], {}, None),            # a sequence is no twin
    ([{"c": "rn"}, {"c": "m"}], {}, "m"),  # ... and the next look-alike is still tried
    ([{"c": "0"}], {}, "0"),
    ([{"c": "0"}, {"c": "o"}], {}, "o"),  # a letter beats a digit
    ([{"c": "o"}, {"c": "0"}], {}, "o"),
    ([{"c": "o"}, {"c": "l"}], {}, "o"),  # otherwise the first one, in the data's order
    ([{"c": "0"}, {"c": "1"}], {}, "0"),
    ([{"c": "ж"}], {}, None),
    ([{"c": "ж"}, {"c": "k"}], {}, "k"),
    ([{"c": "ᴀ"}], {"ᴀ": "a"}, "a"),     # a styled letter stands for its letter
])
def test_ascii_twin(targets: list[dict[str, str]], styled: dict[str, str],
                    twin: str | None) -> None:
    assert _ascii_twin(targets, styled) == twin


@pytest.mark.parametrize(("cp", "japanese"), [
    (0x2FFF, False), (0x3000, True), (0x30FF, True), (0x3100, False),
    (0x4E00, True), (0x9FFF, True), (0xFF00, True), (0xFFEF, True), (0xFFF0, False),
    (0x3FFFF, True), (0x40000, False), (0x0041, False),
])
def test_is_japanese_ranges(cp: int, japanese: bool) -> None:
    assert _is_japanese(cp) is japanese
