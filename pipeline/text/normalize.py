"""Text normalization shared by posts and wordlist terms.

Two views of a text are built, each by a fixed sequence of steps:

- the **base view** (`Views.base`), read by the contact-detail detectors: Unicode compatibility
  forms folded (NFKC: full-width Latin and digits, half-width katakana, circled and styled
  letters), case folded, accents stripped from Latin letters, katakana folded to hiragana with
  voiced marks composed (ｶﾞ → が), Cyrillic and Greek look-alikes mapped to Latin, every kind of
  whitespace made one space, invisible characters (zero-width, bidi and other format controls,
  control characters, combining marks such as strike-through) removed;
- the **match view** (`Views.match`), read by the wordlist matcher: the base view, then digit
  and symbol substitutions inside Latin words (sh1t, @ss, $hit), every punctuation mark and
  symbol turned into a space, separators between Japanese characters and between spaced-out
  single Latin letters removed (し・ね, f u c k), long-vowel marks after Japanese characters
  removed (しーーね), runs of spaces squeezed, and repeated letters collapsed (fuuuck, しねええ).

Every step is a regex or a translation table. The fast path applies them with C-level
`str.translate` and `re.sub`; the tracking path (`track`, run only for texts that have a
candidate hit) applies the very same patterns with `finditer` and keeps, for each character of a
view, the span of the original text it came from. Both paths therefore agree; the one step
the fast path does its own way, composing voiced marks, is checked against the pattern by tests.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

_KATAKANA_FIRST = 0x30A1  # ァ
_KATAKANA_LAST = 0x30F6  # ヶ
_KATA_TO_HIRA = 0x60
_VOICED_MARKS = "\u3099\u309a"

# Lower-case Cyrillic and Greek letters that read as Latin ones in most fonts.
_LOOKALIKES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ь": "b",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w",
}

# Past this many cached code points a table stops growing, so a hostile stream of every plane
# cannot turn the cache into a memory leak; uncached characters are still normalized.
_MAX_CACHED = 65536


def _fold_latin(text: str) -> str:
    """Strip accents from Latin letters (é → e) and keep other scripts as they are."""
    out = []
    for c in text:
        if 0xC0 <= ord(c) < 0x250:
            c = "".join(d for d in unicodedata.normalize("NFKD", c)
                        if not unicodedata.combining(d))
        out.append(c)
    return "".join(out)


#: Joins the texts of a batch so that one pass normalizes them all. Every step treats it as a
#: hard boundary (not a letter, space, separator or Japanese character), so each text's views
#: are the same as when normalized alone. A text that contains it is normalized on its own.
SENTINEL = "\ue000"


def base_char(ch: str) -> str:
    """The base-view form of one code point (possibly empty, possibly several characters)."""
    if ch == SENTINEL:
        return SENTINEL
    if ch.isspace():
        return " "
    if ch in _VOICED_MARKS or ch in "\uff9e\uff9f":
        return "\u3099" if ch in "\u3099\uff9e" else "\u309a"
    category = unicodedata.category(ch)
    if category in ("Cf", "Cc", "Cs", "Co", "Cn", "Mn", "Me"):
        return ""
    folded = _fold_latin(unicodedata.normalize("NFKC", ch).casefold())
    out = []
    for c in folded:
        cp = ord(c)
        if _KATAKANA_FIRST <= cp <= _KATAKANA_LAST:
            c = chr(cp - _KATA_TO_HIRA)
        elif c.isspace():
            c = " "
        elif unicodedata.combining(c) and c not in _VOICED_MARKS:
            c = ""
        out.append(_LOOKALIKES.get(c, c))
    return "".join(out)


def _is_separator(ch: str) -> bool:
    """Punctuation and symbols become spaces in the match view (letters, digits, kana stay)."""
    return ch != SENTINEL and (ch.isspace() or unicodedata.category(ch)[0] in "PS")


class _Table(dict[int, str]):
    """A `str.translate` table that fills itself in on first sight of a code point."""

    def __init__(self, fn: Callable[[str], str]) -> None:
        super().__init__()
        self._fn = fn

    def __missing__(self, cp: int) -> str:
        mapped = self._fn(chr(cp))
        if len(self) < _MAX_CACHED:
            self[cp] = mapped
        return mapped


_BASE_TABLE = _Table(base_char)

#: Every punctuation mark and symbol lies below this code point (a unit test checks the rest).
SEPARATORS_END = 0x20000
# Built whole at import (about 20 ms) as a plain dict: `str.translate` looks a plain dict up
# faster than a dict subclass, and characters it lacks stay as they are.
_SEPARATOR_TABLE = {cp: " " for cp in range(SEPARATORS_END)
                    if cp != 0x20 and _is_separator(chr(cp))}

# --- steps on the base view -------------------------------------------------------------------

_COMPOSABLE = {
    base + mark: unicodedata.normalize("NFC", base + mark)
    for base in map(chr, range(0x3041, 0x3097))
    for mark in _VOICED_MARKS
    if len(unicodedata.normalize("NFC", base + mark)) == 1
}
# A voiced mark that composes is merged into its kana; any other is dropped.
_COMPOSE_RE = re.compile("|".join(sorted(_COMPOSABLE)) + f"|[{_VOICED_MARKS}]")


def _compose(match: re.Match[str]) -> str:
    return _COMPOSABLE.get(match.group(), "")


_MARK_SPLIT_RE = re.compile(f"([{_VOICED_MARKS}])")


def _compose_marks(base: str) -> str:
    """`_COMPOSE_RE.sub(_compose, base)`, fast. That pattern starts with a kana, so the regex
    engine tries it at almost every position of Japanese text; splitting at the rare marks
    instead costs a fifth as much. The tracking path keeps the pattern; tests check both agree.
    """
    parts = _MARK_SPLIT_RE.split(base)
    for i in range(1, len(parts), 2):  # odd parts are the marks
        before = parts[i - 1]
        composed = _COMPOSABLE.get(before[-1:] + parts[i])
        if composed:
            parts[i - 1] = before[:-1] + composed
        parts[i] = ""
    return "".join(parts)


# --- steps on the match view ------------------------------------------------------------------

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "!": "i", "|": "l"})
# A whole token of Latin letters, digits and leet symbols that holds at least one digit or
# symbol. It starts with a token character and checks with a lookbehind placed after it that
# this is the token's start, so the regex engine skips other characters with a fast scan
# (Japanese text is mostly such characters); anchored at token starts, a long run of letters
# cannot cost quadratic backtracking.
_LEET_TOKEN_RE = re.compile(
    r"[a-z0-9@$!|](?<![a-z0-9@$!|]{2})(?:(?<=[0-9@$!|])|[a-z0-9@$!|]*[0-9@$!|])[a-z0-9@$!|]*"
)


def _unleet(match: re.Match[str]) -> str:
    """Digit and symbol substitutions, inside Latin words only (a token with a letter)."""
    token = match.group()
    if not any(c.isalpha() for c in token):
        return token
    stripped = token.rstrip("!")  # "fuck!" keeps its exclamation mark
    return stripped.translate(_LEET) + token[len(stripped):]


_JA = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆"
# One deletion pass, four rules (the first that applies at a position wins):
# - spaces and long-vowel marks between two Japanese characters (し ね, し・ね once punctuation
#   is a space, しーーね, ゲーム);
# - long-vowel marks stretching the end of a Japanese word (しね〜, しねー);
# - spaces between spaced-out single Latin letters or digits (f u c k, f.u.c.k);
# - all but one space of a run.
# Each rule starts with the character it deletes and checks what precedes it with a lookbehind
# placed after that character, so the regex engine can skip every other position quickly.
_GAPS_RE = re.compile(
    f"[ ー~](?<=[{_JA}][ ー~])[ ー~]*(?=[{_JA}])"
    f"|[ー~](?<=[{_JA}][ー~])[ー~]*"
    r"| (?<=[a-z0-9] )(?<![a-z0-9]{2} ) *(?=[a-z0-9](?![a-z0-9]))"
    r"| (?<=  ) *"
)
# Repeated letters (fuuuck, しねええ); digits keep their runs.
_REPEAT_RE = re.compile(r"(?<=([^\W\d_]))\1+")


@dataclass(frozen=True, slots=True)
class Views:
    """The two normalized views of a text."""

    base: str
    match: str


def _base_view(text: str) -> str:
    base = text.translate(_BASE_TABLE)
    if "\u3099" in base or "\u309a" in base:
        base = _compose_marks(base)
    return base


def _gapped_view(base: str) -> str:
    """The match view before repeated letters are collapsed."""
    return _GAPS_RE.sub("", _LEET_TOKEN_RE.sub(_unleet, base).translate(_SEPARATOR_TABLE))


def views(text: str) -> Views:
    """Both views of a text, fast (C-level passes only)."""
    base = _base_view(text)
    return Views(base, _REPEAT_RE.sub("", _gapped_view(base)))


_PLAIN_NOISE_RE = re.compile(r"[ー~〜]+")


# In a base view every space is " " (see `base_char`); for joined texts, the spaces at either
# end of each text (next to a sentinel) go as `str.split` would drop them.
_EDGE_SPACES_RE = re.compile(f"^ +| +$| +(?={SENTINEL})|(?<={SENTINEL}) +")
_SPACE_RUN_RE = re.compile(" {2,}")


def _plain_of_base(base: str) -> str:
    """`plain_form` of a base view whose ends carry no space."""
    return _REPEAT_RE.sub("", _PLAIN_NOISE_RE.sub("", _SPACE_RUN_RE.sub(" ", base)))


def plain_form(text: str) -> str:
    """The base view with whitespace squeezed, long-vowel marks dropped and repeated letters
    collapsed, but punctuation and symbols kept: two spellings share a plain form when they
    differ only in width, script, case, spacing or stretching, not in inserted separators."""
    return _plain_of_base(_base_view(text).strip(" "))


@dataclass(frozen=True, slots=True)
class BatchViews:
    """The views of many texts at once: each view joined by `SENTINEL`, with the offset at
    which each text's match view starts."""

    base: str
    match: str
    match_starts: list[int]


def text_starts(parts: Sequence[str]) -> list[int]:
    """Where each of `parts` starts once they are joined by `SENTINEL`, then one past the end
    of the last (C-level: a batch has thousands of parts)."""
    return list(accumulate(map((1).__add__, map(len, parts)), initial=0))


def views_batch(texts: Sequence[str]) -> BatchViews:
    """The views of every text, computed in one pass over the whole batch.

    No text may contain `SENTINEL` (the caller normalizes such a text on its own).
    """
    joined = views(SENTINEL.join(texts))
    return BatchViews(joined.base, joined.match, text_starts(joined.match.split(SENTINEL)))


def normalize(text: str) -> str:
    """The match view of a text: what wordlist terms are looked up in."""
    return views(text).match


@dataclass(frozen=True, slots=True)
class Tracked:
    """A view with, for each of its characters, the span of the original text it came from.

    Attributes:
        text: the view.
        starts: `starts[i]` is the original index of the first character behind `text[i]`.
        ends: `ends[i]` is one past the original index of the last character behind `text[i]`.
        runs: how many repeated letters `text[i]` stands for (1 unless collapsed).
    """

    text: str
    starts: list[int]
    ends: list[int]
    runs: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind `text[start:end]` (inserted separators included)."""
        return self.starts[start], self.ends[end - 1]


def _track_sub(view: Tracked, pattern: re.Pattern[str],
               replace: Callable[[re.Match[str]], str] | None = None, *,
               absorb: bool = False) -> Tracked:
    """The tracked twin of `pattern.sub(replace or "", text)`.

    Each match becomes `replace(match)`, which is empty or one character standing for the whole
    match; without `replace` matches are deleted, and with `absorb` the character before a
    deleted match stands for it too (a collapsed run of letters).
    """
    text, starts, ends, runs = view.text, view.starts, view.ends, view.runs
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    new_runs: list[int] = []
    pos = 0
    matched = False
    for m in pattern.finditer(text):
        matched = True
        a, b = m.span()
        out.append(text[pos:a])
        new_starts.extend(starts[pos:a])
        new_ends.extend(ends[pos:a])
        new_runs.extend(runs[pos:a])
        replacement = replace(m) if replace is not None else ""
        if replacement:
            out.append(replacement)
            new_starts.append(starts[a])
            new_ends.append(ends[b - 1])
            new_runs.append(1)
        elif absorb and new_ends:
            new_ends[-1] = ends[b - 1]
            new_runs[-1] += sum(runs[a:b])
        pos = b
    if not matched:
        return view
    out.append(text[pos:])
    new_starts.extend(starts[pos:])
    new_ends.extend(ends[pos:])
    new_runs.extend(runs[pos:])
    return Tracked("".join(out), new_starts, new_ends, new_runs)


def track(text: str) -> tuple[Tracked, Tracked]:
    """Both views with their maps back to `text`: `(base, match)`.

    Slower than `views` (a Python loop over the text); used only for texts with a candidate hit.
    """
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    table = _BASE_TABLE
    for index, ch in enumerate(text):
        mapped = table[ord(ch)]
        if mapped:
            pieces.append(mapped)
            starts.extend([index] * len(mapped))
            ends.extend([index + 1] * len(mapped))
    joined = "".join(pieces)
    base = Tracked(joined, starts, ends, [1] * len(joined))
    if "\u3099" in base.text or "\u309a" in base.text:
        base = _track_sub(base, _COMPOSE_RE, _compose)
    # The substitution and the separator table keep every length, so the map carries over.
    mapped_text = _LEET_TOKEN_RE.sub(_unleet, base.text).translate(_SEPARATOR_TABLE)
    match = Tracked(mapped_text, base.starts, base.ends, base.runs)
    match = _track_sub(match, _GAPS_RE)
    match = _track_sub(match, _REPEAT_RE, absorb=True)
    return base, match


class TermForm(NamedTuple):
    """How a wordlist term is looked up.

    Attributes:
        match: the term's match view, without spaces at either end (the matcher's key).
        runs: for each character of `match`, how many times the term repeats it.
        plain: the term's `plain_form`.
    """

    match: str
    runs: tuple[int, ...]
    plain: str


def term_form(term: str) -> TermForm:
    """The form of one term, through the tracking path (the reference for `term_forms`)."""
    _, match = track(term)
    text = match.text
    left = len(text) - len(text.lstrip(" "))
    right = len(text.rstrip(" "))
    return TermForm(text[left:right], tuple(match.runs[left:right]), plain_form(term))


def term_forms(terms: Sequence[str]) -> list[TermForm]:
    """`term_form` of every term, in a few C-level passes over all of them joined.

    Only a term with a repeated letter (whose runs need counting) or one that contains
    `SENTINEL` takes the tracking path, so a 100,000-entry list normalizes in a fraction of a
    second.
    """
    forms: list[TermForm | None] = [None] * len(terms)
    batch = [i for i, term in enumerate(terms) if SENTINEL not in term]
    if batch:
        base = _base_view(SENTINEL.join(terms[i] for i in batch))
        gapped = _gapped_view(base)
        collapsed = _REPEAT_RE.sub("", gapped).split(SENTINEL)
        plains = _plain_of_base(_EDGE_SPACES_RE.sub("", base)).split(SENTINEL)
        for i, before, view, plain in zip(batch, gapped.split(SENTINEL), collapsed, plains,
                                          strict=True):
            if len(view) == len(before):  # no repeated letter collapsed: every run is 1
                key = view.strip(" ")
                forms[i] = TermForm(key, (1,) * len(key), plain)
    return [form if form is not None else term_form(term)
            for form, term in zip(forms, terms, strict=True)]
