"""Text normalization shared by posts and wordlist terms.

One pure, per-character function decides what every code point becomes, so the fast path (a
cached `str.translate` table, no Python loop) and the offset-keeping path (used only for posts
that hit something) always agree on the normalized string.

What it does to each character:
- Unicode compatibility forms (NFKC): full-width Latin and digits, half-width katakana, circled
  and styled letters become their plain form;
- case is folded;
- katakana becomes hiragana, so both scripts match one term;
- every kind of whitespace becomes one ASCII space;
- invisible characters (zero-width, bidi and other format controls, control characters) vanish.

Deeper evasion handling (inserted separators, stretched words, look-alikes) builds on this.
"""

from __future__ import annotations

import unicodedata

_KATAKANA_FIRST = 0x30A1  # ァ
_KATAKANA_LAST = 0x30F6  # ヶ
_KATA_TO_HIRA = 0x60

# Past this many cached code points the table stops growing, so a hostile stream of every
# plane cannot turn the cache into a memory leak; uncached characters are still normalized.
_MAX_CACHED = 65536


def normalize_char(ch: str) -> str:
    """The normalized form of one code point (possibly empty, possibly several characters)."""
    if ch.isspace():
        return " "
    category = unicodedata.category(ch)
    if category in ("Cf", "Cc", "Cs"):
        return ""
    folded = unicodedata.normalize("NFKC", ch).casefold()
    out = []
    for c in folded:
        cp = ord(c)
        if _KATAKANA_FIRST <= cp <= _KATAKANA_LAST:
            c = chr(cp - _KATA_TO_HIRA)
        elif c.isspace():
            c = " "
        out.append(c)
    return "".join(out)


class _Table(dict[int, str]):
    """A `str.translate` table that fills itself in on first sight of a code point."""

    def __missing__(self, cp: int) -> str:
        mapped = normalize_char(chr(cp))
        if len(self) < _MAX_CACHED:
            self[cp] = mapped
        return mapped


_TABLE = _Table()


def normalize(text: str) -> str:
    """Normalize text for matching. Fast: one C-level pass over the string."""
    return text.translate(_TABLE)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalize text and keep a map back to the original.

    Returns:
        `(normalized, origin)` where `origin[i]` is the index in `text` of the character that
        produced `normalized[i]`, plus one sentinel entry `len(text)` at the end.
    """
    pieces: list[str] = []
    origin: list[int] = []
    table = _TABLE
    for index, ch in enumerate(text):
        mapped = table[ord(ch)]
        if mapped:
            pieces.append(mapped)
            origin.extend([index] * len(mapped))
    origin.append(len(text))
    return "".join(pieces), origin


def original_span(origin: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a normalized span `[start, end)` back to the original text's code points."""
    return origin[start], origin[end - 1] + 1
