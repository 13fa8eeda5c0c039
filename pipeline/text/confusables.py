"""Look-alike letters that NFKC does not fold, mapped to the ASCII letter they imitate. Pure.

Built from data, not by hand:

- Unicode's confusables data (UTS #39 `confusables.txt`), as shipped in the pinned
  `confusable-homoglyphs` package (`confusables.json`, groups of characters that look alike).
  A letter or digit of another script maps to the ASCII letter or digit it is confusable with
  (Cyrillic `ѕ`, Greek `υ`, Latin `ƒ` and `ɡ`); when the lower-case form has no ASCII twin, its
  upper-case form is tried (Cyrillic `к` through `К`), and accents are stripped first (`ё`).
- The Unicode character names, for the styled Latin letters that confusables.txt leaves out:
  negative circled and negative squared capitals (🅐, 🅰), regional-indicator letters (🇦) and
  small capitals (ᴀ, ʙ).

Japanese scripts are never mapped (`〇` stays a kanji numeral, `ー` a long-vowel mark), nor are
symbols and punctuation (`×` stays a separator): only letters and digits of other scripts.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from importlib import resources

# Kana, CJK ideographs and the full-/half-width forms block: never folded to Latin.
_JAPANESE_RANGES = ((0x3000, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
                    (0xFF00, 0xFFEF), (0x20000, 0x3FFFF))
_STYLED_NAME_RE = re.compile(
    r"^(?:NEGATIVE CIRCLED LATIN CAPITAL LETTER|NEGATIVE SQUARED LATIN CAPITAL LETTER"
    r"|REGIONAL INDICATOR SYMBOL LETTER|LATIN LETTER SMALL CAPITAL) ([A-Z])$"
)


# The blocks that hold small capitals, negative enclosed letters and regional indicators.
_STYLED_BLOCKS = ((0x0250, 0x02AF), (0x1D00, 0x1DBF), (0xA700, 0xA7FF), (0x1F100, 0x1F1FF))
# Latin, Greek, Cyrillic and other alphabets whose letters imitate Latin ones; the data's own
# characters are added to these.
_ALPHABET_BLOCKS = ((0x0080, 0x058F), (0x10A0, 0x10FF), (0x13A0, 0x13FF), (0x1D00, 0x1FFF),
                    (0x2C00, 0x2DFF), (0xA640, 0xA7FF), (0xAB30, 0xABBF))


def _is_japanese(cp: int) -> bool:
    return any(low <= cp <= high for low, high in _JAPANESE_RANGES)


def _strip_marks(text: str) -> str:
    """Without combining marks and the bidi marks the data wraps right-to-left letters in."""
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c) and c not in "\u200e\u200f")


@functools.cache
def styled_latin() -> dict[str, str]:
    """Styled Latin letters named in the Unicode database, to their lower-case ASCII letter."""
    found: dict[str, str] = {}
    for cp in (cp for low, high in _STYLED_BLOCKS for cp in range(low, high + 1)):
        name = unicodedata.name(chr(cp), "")
        match = _STYLED_NAME_RE.match(name)
        if match:
            found[chr(cp)] = match.group(1).lower()
    return found


def _ascii_twin(targets: list[dict[str, str]], styled: dict[str, str]) -> str | None:
    """The best ASCII letter (else digit) among a character's look-alikes."""
    best: str | None = None
    for target in targets:
        text = _strip_marks(target["c"]).casefold()
        if len(text) != 1:
            continue
        if not (text.isascii() and text.isalnum()):
            text = styled.get(text, "")
            if not text:
                continue
        if best is None or (best.isdigit() and text.isalpha()):
            best = text
    return best


@functools.cache
def confusable_map() -> dict[str, str]:
    """Every non-Japanese letter or digit whose look-alike is an ASCII letter or digit, to it.

    Keys are characters as they are after NFKC and case folding (the caller folds first).
    """
    data: dict[str, list[dict[str, str]]] = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json")
        .read_text(encoding="utf-8"))
    styled = styled_latin()
    found: dict[str, str] = dict(styled)
    chars = {chr(cp) for low, high in _ALPHABET_BLOCKS for cp in range(low, high + 1)}
    chars.update(key for key in data if len(key) == 1)
    chars.update(key.lower() for key in data if len(key) == 1)
    for ch in sorted(chars):
        cp = ord(ch)
        if cp < 0x80 or _is_japanese(cp) or ch in found or unicodedata.category(ch)[0] not in "LN":
            continue
        folded = unicodedata.normalize("NFKC", ch).casefold()
        if folded != ch or folded.isascii():
            continue  # NFKC and case folding already handle it, or it is ASCII
        bare = _strip_marks(ch)
        for candidate in dict.fromkeys((ch, bare, ch.upper(), bare.upper())):
            twin = _ascii_twin(data.get(candidate, []), styled)
            if twin is None and candidate != ch and candidate.isascii() and candidate.isalpha():
                twin = candidate.casefold()  # an accented Latin letter (ё → е is not this case)
            if twin is not None:
                found[ch] = twin
                break
    return found
