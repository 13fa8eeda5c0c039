"""Text normalization shared by posts and wordlist terms.

Two views of a text are built, each by a fixed sequence of steps:

- the **base view** (`Views.base`), read by the contact-detail detectors: a long-vowel mark
  inside a katakana word marked as a letter (`KATAKANA_LONG`) and a capital I inside a
  lower-case word read as l (`_prepare`, on the text as written), Unicode compatibility forms
  folded (NFKC: full-width Latin and digits, half-width katakana, circled and styled letters),
  case folded, accents stripped from Latin letters, look-alike letters of other scripts and
  styled letters NFKC leaves alone mapped to Latin (`pipeline.text.confusables`, from Unicode's
  confusables data and character names), katakana folded to hiragana with voiced marks
  composed (ｶﾞ → が, ハ゛ → ば), every kind of whitespace made one space, invisible characters
  (zero-width, bidi and other format controls, control characters, combining marks such as
  strike-through) removed;
- the **match view** (`Views.match`), read by the wordlist matcher: the base view, then
  kaomoji and bracketed laughter blanked, digit and symbol substitutions in tokens that read as
  words (sh1t, @ss, $#!+; not model numbers such as a7), a long-vowel mark after a kana read as
  that kana's vowel (うぜー → うぜえ), every punctuation mark and symbol turned into a space,
  small kana made large and v made u, then one deletion pass (`_gap_rules`: separators between
  Japanese letters, where Latin meets Japanese, between digits and between spaced-out single
  Latin letters; small つ; laughter between letters; vowels stretching a kana inside a word),
  and repeated letters collapsed (fuuuck, しねええ). Whether a match that a deletion joined was
  spaced out on purpose is judged per hit (`pipeline.text.evidence`).

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
from itertools import accumulate, chain, repeat
from typing import NamedTuple

from pipeline.text.confusables import confusable_map

_KATAKANA_FIRST = 0x30A1  # ァ
_KATAKANA_LAST = 0x30F6  # ヶ
_KATA_TO_HIRA = 0x60
_VOICED_MARKS = "\u3099\u309a"

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
#: A long-vowel mark written after katakana (ブース, セーフ): a letter of the word, unlike the
#: mark that stretches hiragana (しーね). `_prepare` marks them in the text as written, so the
#: base view keeps them apart from the stretching ones (katakana is folded to hiragana there).
KATAKANA_LONG = "\ue001"
_STRAY = "\ue002"  # a KATAKANA_LONG found in the input itself; removed like any private use
# The spacing voiced marks ゛ and ゜ (NFKC makes them a space and a combining mark).
_SPACING_MARKS = {"\u309b": "\u3099", "\u309c": "\u309a"}


def base_char(ch: str) -> str:
    """The base-view form of one code point (possibly empty, possibly several characters)."""
    if ch in (SENTINEL, KATAKANA_LONG):
        return ch
    if ch in _SPACING_MARKS:
        return _SPACING_MARKS[ch]
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
        elif not c.isascii():
            c = confusable_map().get(c, c)
        out.append(c)
    return "".join(out)


def invisible(ch: str) -> bool:
    """Whether a character vanishes from the base view (zero-width, format, control, combining
    marks other than voiced marks)."""
    return ch == KATAKANA_LONG or _BASE_TABLE[ord(ch)] == ""


#: Voiced marks in every form: a mark that does not compose is dropped, never a gap.
VOICED_MARKS_ANY = "\u3099\u309a\u309b\u309c\uff9e\uff9f"


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


# --- steps on the text as written (length-preserving, so offsets carry over) -------------------

# A long-vowel mark inside a katakana word: after a katakana (a voiced mark may come between)
# and before another kana. It is a letter of the word (ブース is not ブス). At the end of a word
# the mark stays a plain ー (read as the vowel it stretches), and so do two or more in a row
# (パーーパ活 stretches パパ活: no word is written that way).
_KATAKANA = "\u30a1-\u30fa\uff66\uff67-\uff6f\uff71-\uff9d"
_KATAKANA_LONG_RE = re.compile(
    f"[ーｰ](?:(?<=[{_KATAKANA}][ーｰ])|(?<=[{_KATAKANA}][ﾞﾟ゛゜\u3099\u309a][ーｰ]))"
    f"(?=[{_KATAKANA}\u3041-\u3096])"
)
# A capital I inside a lower-case word stands for an l (sIut, kiII): capital I and small l
# look the same in most fonts. "I", "It", "McIntosh" keep theirs or do no harm.
_CAPITAL_I_RE = re.compile("I(?<=[a-z]I)I*")


def _small_l(match: re.Match[str]) -> str:
    return "l" * (match.end() - match.start())


def _prepare(text: str) -> str:
    """The text as written with katakana long-vowel letters and capital-I-for-l marked; same
    length, so every index still points at the same character of the original."""
    if KATAKANA_LONG in text:
        text = text.replace(KATAKANA_LONG, _STRAY)
    if "ー" in text or "ｰ" in text:
        text = _KATAKANA_LONG_RE.sub(KATAKANA_LONG, text)
    if "I" in text:
        text = _CAPITAL_I_RE.sub(_small_l, text)
    return text


# --- steps on the match view ------------------------------------------------------------------

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "!": "i", "|": "l"})
# A run of symbols alone can spell a word too ($#!+, @$$).
_SYMBOL_LEET = str.maketrans({"@": "a", "$": "s", "!": "i", "|": "l", "#": "h", "+": "t"})
_LEET_CHARS = "a-z0-9@$!|#+"
# A whole token of Latin letters, digits and leet symbols that holds at least one digit or
# symbol. It starts with a token character and checks with a lookbehind placed after it that
# this is the token's start, so the regex engine skips other characters with a fast scan
# (Japanese text is mostly such characters); anchored at token starts, a long run of letters
# cannot cost quadratic backtracking.
_LEET_TOKEN_RE = re.compile(
    f"[{_LEET_CHARS}](?<![{_LEET_CHARS}]{{2}})"
    f"(?:(?<=[0-9@$!|#+])|[{_LEET_CHARS}]*[0-9@$!|#+])[{_LEET_CHARS}]*"
)
# Letters then digits, or digits then letters, is a model number or a count (a7, p30, ps5, 4k,
# 2nd), not a word with substitutions; a digit between letters is (sh1t, k1ll, y0u).
_MODEL_NUMBER_RE = re.compile(r"[a-z]+[0-9]+|[0-9]+[a-z]+")


def _unleet(match: re.Match[str]) -> str:
    """Digit and symbol substitutions, in tokens that read as words only."""
    token = match.group()
    stripped = token.rstrip("!")  # "fuck!" keeps its exclamation mark
    rest = token[len(stripped):]
    if not any(c.isalpha() for c in stripped):
        # All symbols: a spelled word only when it mixes at least two kinds ($#!+, @$$).
        if (len(stripped) >= 3 and not any(c.isdigit() for c in stripped)
                and len(set(stripped)) >= 2):
            return stripped.translate(_SYMBOL_LEET) + rest
        return token
    if "#" in stripped or "+" in stripped or _MODEL_NUMBER_RE.fullmatch(stripped):
        return token  # a hashtag, c++, or a model number
    return stripped.translate(_LEET) + rest


# Vowel columns of the hiragana (a base view has no katakana).
_COLUMNS = {
    "あ": "あかさたなはまやらわがざだばぱぁゃゎゕ",
    "い": "いきしちにひみりぎじぢびぴぃ",
    "う": "うくすつぬふむゆるぐずづぶぷぅゅゔ",
    "え": "えけせてねへめれげぜでべぺぇゖ",
    "お": "おこそとのほもよろをごぞどぼぽぉょ",
}
# A long o is written う far more often than お (こう, そう): ー after an お-column kana reads う,
# and both stretch such a kana.
_LONG_VOWEL = {"あ": "あ", "い": "い", "う": "う", "え": "え", "お": "う"}
_EXTENSIONS = {"あ": "あ", "う": "う", "え": "え", "お": "おう"}
_VOWEL_OF = {kana: _LONG_VOWEL[vowel] for vowel, column in _COLUMNS.items() for kana in column}
# A long-vowel mark after a kana reads as that kana's vowel (うぜー is うぜえ, きもーい is
# きもおい); after anything else it only stretches (死ーね).
_KANA_LONG_RE = re.compile("ー(?<=[" + "".join(_VOWEL_OF) + "]ー)ー*")


def _kana_long(match: re.Match[str]) -> str:
    return _VOWEL_OF[match.string[match.start() - 1]] * (match.end() - match.start())


#: Every punctuation mark and symbol lies below this code point (a unit test checks the rest).
SEPARATORS_END = 0x20000
# Built whole at import (about 20 ms) as a plain dict: `str.translate` looks a plain dict up
# faster than a dict subclass, and characters it lacks stay as they are. Besides turning
# punctuation and symbols into spaces it folds small kana into large ones (きもぃ, ゃばい) and
# v into u (fvck): English has almost no two words told apart by u and v alone.
_SEPARATOR_TABLE = {cp: " " for cp in range(SEPARATORS_END)
                    if cp != 0x20 and _is_separator(chr(cp))}
_SEPARATOR_TABLE.update({ord(small): large for small, large in zip(
    "ぁぃぅぇぉゃゅょゎゕゖv", "あいうえおやゆよわかけu", strict=True)})

_JA = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆" + KATAKANA_LONG
_KANA = r"\u3040-\u30ff" + KATAKANA_LONG


def _gap_rules() -> str:
    """The deletion pass of the match view, as one pattern.

    It starts with one class of the characters it may delete, and each rule then checks what
    precedes with a lookbehind that includes that character, so the regex engine skips every
    other position quickly. The first rule that applies at a position wins:

    - spaces and stretching marks between two Japanese characters, or between a Japanese
      character and a Latin one or a digit (し ね, し・ね once punctuation is a space, 死ーね,
      LINE 交換);
    - stretching marks at the end of a Japanese word (死ー);
    - spaces between digits (090 1234 5678) and between spaced-out single Latin letters or
      digits (f u c k, f.u.c.k);
    - all but one space of a run;
    - an emphatic small つ (しっね, ぶっ殺す: terms lose theirs too);
    - laughter between Japanese letters (しwね), 笑 between two kana (し笑ね) unless a verb's
      ending follows (笑い, 笑った);
    - a vowel stretching the kana before it inside a word (きもおおい, きもーい once ー is
      read as its vowel), except い after an い-column kana: 楽しいね must keep it.

    Whether such a join was deliberate is judged later, per hit (`pipeline.text.evidence`).
    """
    spaces = [  # a space or stretching mark, and what is around it
        f"(?<=[{_JA}][ ー~])[ ー~]*(?=[{_JA}a-z0-9])",
        f"(?<=[{_JA}][ー~])[ー~]*",
        f"(?<=[a-z0-9] ) *(?=[{_JA}])",
        r"(?<=[0-9] ) *(?=[0-9])",
        r"(?<=[a-z0-9] )(?<![a-z0-9]{2} ) *(?=[a-z0-9](?![a-z0-9]))",
        r"(?<=  ) *",
    ]
    vowels = [f"(?<=[{_COLUMNS[vowel]}][{ext}])[{ext}]*(?=[{_KANA}])"
              for vowel, ext in _EXTENSIONS.items()]
    # The consumed character picks its group with a one-character lookbehind, so a common
    # letter such as あ is not tried against every rule.
    groups = [
        "(?<=[ ー~])(?:" + "|".join(spaces) + ")",
        "(?<=っ)",
        f"(?<=[{_JA}]w)w*(?=[{_JA}])",
        f"(?<=[{_KANA}]笑)(?=[{_KANA}])(?![わいうえおっ])",
        "(?<=[あうえお])(?:" + "|".join(vowels) + ")",
    ]
    return "[ ー~っw笑あうえお](?:" + "|".join(groups) + ")"


_GAPS_RE = re.compile(_gap_rules())
# Repeated letters (fuuuck, しねええ); digits keep their runs. (A KATAKANA_LONG is never
# doubled: two marks in a row stay plain ー.)
_REPEAT_RE = re.compile(r"(?<=([^\W\d_]))\1+")


@dataclass(frozen=True, slots=True)
class Views:
    """The two normalized views of a text."""

    base: str
    match: str


def _base_view(text: str) -> str:
    base = _prepare(text).translate(_BASE_TABLE)
    if "\u3099" in base or "\u309a" in base:
        base = _compose_marks(base)
    return base


# A bracketed group that is a kaomoji ((^o^), (´・ω・`)) or a laughter or emotion mark ((笑),
# (汗)): blanked out, so that it separates like a symbol instead of adding letters.
_BRACKETED_RE = re.compile(r"\([^()\ue000]{1,15}\)")
_EMOTION_MARKS = frozenset("笑汗泣怒爆涙")
_WORD_CHARS_RE = re.compile("[0-9\u3041-\u3096\u30a1-\u30fa\u3400-\u4dbf\u4e00-\u9fff]")


def _blank_kaomoji(match: re.Match[str]) -> str:
    group = match.group()
    inside = group[1:-1]
    if inside in _EMOTION_MARKS or (
            not _WORD_CHARS_RE.search(inside)
            and sum(c.isascii() and c.isalpha() for c in inside) <= 2
            and any(not c.isalnum() and not c.isspace() for c in inside)):
        return " " * len(group)
    return group


def _lettered(base: str) -> str:
    """The match view before its deletions: same length as the base view."""
    if "(" in base:
        base = _BRACKETED_RE.sub(_blank_kaomoji, base)
    text = _LEET_TOKEN_RE.sub(_unleet, base)
    if "ー" in text:
        text = _KANA_LONG_RE.sub(_kana_long, text)
    return text.translate(_SEPARATOR_TABLE)


def _gapped_view(base: str) -> str:
    """The match view before repeated letters are collapsed."""
    return _GAPS_RE.sub("", _lettered(base))


def views(text: str) -> Views:
    """Both views of a text, fast (C-level passes only)."""
    base = _base_view(text)
    return Views(base, _REPEAT_RE.sub("", _gapped_view(base)))


@dataclass(frozen=True, slots=True)
class BatchViews:
    """The views of many texts at once: each view joined by `SENTINEL`, with the offset at
    which each text's match view starts, and the match view before its deletions (`lettered`,
    as long as `base`: the tracking path starts from it)."""

    base: str
    match: str
    match_starts: list[int]
    lettered: str = ""


def text_starts(parts: Sequence[str]) -> list[int]:
    """Where each of `parts` starts once they are joined by `SENTINEL`, then one past the end
    of the last (C-level: a batch has thousands of parts)."""
    return list(accumulate(map((1).__add__, map(len, parts)), initial=0))


def views_batch(texts: Sequence[str]) -> BatchViews:
    """The views of every text, computed in one pass over the whole batch.

    No text may contain `SENTINEL` (the caller normalizes such a text on its own).
    """
    base = _base_view(SENTINEL.join(texts))
    lettered = _lettered(base)
    match = _REPEAT_RE.sub("", _GAPS_RE.sub("", lettered))  # as `views` makes it
    return BatchViews(base, match, text_starts(match.split(SENTINEL)), lettered)


def normalize(text: str) -> str:
    """The match view of a text: what wordlist terms are looked up in."""
    return views(text).match


class Tracked(NamedTuple):
    """A view with, for each of its characters, the span of the original text it came from.
    (A named tuple: several are built for every post with a candidate.)

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
    # Each character as written becomes `_BASE_TABLE[ord(ch)]`: empty, one character or
    # several, each of which maps back to it. Built with C-level map passes, no Python loop.
    pieces = list(map(_BASE_TABLE.__getitem__, map(ord, _prepare(text))))
    joined = "".join(pieces)
    n = len(pieces)
    lengths = list(map(len, pieces))
    if lengths.count(1) == n:  # the common case: one character for one
        starts = list(range(n))
        ends = list(range(1, n + 1))
    else:
        starts = list(chain.from_iterable(map(repeat, range(n), lengths)))
        ends = list(chain.from_iterable(map(repeat, range(1, n + 1), lengths)))
    base = Tracked(joined, starts, ends, [1] * len(joined))
    if "\u3099" in base.text or "\u309a" in base.text:
        base = _track_sub(base, _COMPOSE_RE, _compose)
    # The substitution and the separator table keep every length, so the map carries over.
    match = Tracked(_lettered(base.text), base.starts, base.ends, base.runs)
    match = _track_sub(match, _GAPS_RE)
    match = _track_sub(match, _REPEAT_RE, absorb=True)
    return base, match


# Empty for a character of the text as written that is one character of the base view.
_ONE_FOR_ONE = _Table(lambda ch: "" if len(base_char(ch)) == 1 else ch)


def track_views(text: str, base: str, match: str,
                lettered: str | None = None) -> tuple[Tracked, Tracked]:
    """`track(text)`, for a text whose views (`views(text)`: `base`, `match`) are known, and
    maybe its match view before deletions (`lettered`, `BatchViews.lettered`).

    Most texts need no pass of their own over the text as written: when every character is one
    character of the base view (no voiced mark composed, nothing invisible dropped, nothing
    expanded), the base view's map is the identity, and so is the match view's when it deleted
    nothing (both views as long as the text); otherwise only the match view's deletions are
    tracked. Any other text takes `track`.
    """
    n = len(text)
    if len(base) != n or _prepare(text).translate(_ONE_FOR_ONE):
        return track(text)
    starts = list(range(n))
    ends = list(range(1, n + 1))
    runs = [1] * n
    tracked_base = Tracked(base, starts, ends, runs)
    if len(match) == n:
        return tracked_base, Tracked(match, starts, ends, runs)
    # The match view deleted something: its steps, as `track` takes them from the base view.
    letters = Tracked(_lettered(base) if lettered is None else lettered, starts, ends, runs)
    return tracked_base, _track_sub(_track_sub(letters, _GAPS_RE), _REPEAT_RE, absorb=True)


class TermForm(NamedTuple):
    """How a wordlist term is looked up.

    Attributes:
        match: the term's match view, without spaces at either end (the matcher's key).
        runs: for each character of `match`, how many times the term repeats it.
        gaps: the positions `i` of `match` after which the term as written has characters the
            match view dropped (the っ of ぶっ殺す): a text may have them there too.
    """

    match: str
    runs: tuple[int, ...]
    gaps: tuple[int, ...]


_EXTENSION_OF = {kana: _EXTENSIONS.get(vowel, "")
                 for vowel, column in _COLUMNS.items() for kana in column}


def _without_trailing_stretch(form: TermForm) -> TermForm:
    """A term's key does not end in a vowel stretching the kana before it (しよう → しよ,
    うぜえ → うぜ): inside a post the match view drops such a vowel whenever more text follows
    (しようかな → しよかな), so the key must match either way."""
    key, runs, gaps = form
    end = len(key)
    while end > 2 and key[end - 1] in _EXTENSION_OF.get(key[end - 2], ""):
        end -= 1
    if end == len(key):
        return form
    return TermForm(key[:end], runs[:end], tuple(g for g in gaps if g < end - 1))


def term_form(term: str) -> TermForm:
    """The form of one term, through the tracking path (the reference for `term_forms`)."""
    _, match = track(term)
    text = match.text
    left = len(text) - len(text.lstrip(" "))
    right = len(text.rstrip(" "))
    gaps = tuple(i - left for i in range(left, right - 1)
                 if any(not invisible(c) and c not in VOICED_MARKS_ANY
                        for c in term[match.ends[i]:match.starts[i + 1]]))
    return _without_trailing_stretch(
        TermForm(text[left:right], tuple(match.runs[left:right]), gaps))


def term_forms(terms: Sequence[str]) -> list[TermForm]:
    """`term_form` of every term, in a few C-level passes over all of them joined.

    Only a term that loses characters in the match view (a repeated letter, whose runs need
    counting, a gap, a space at an edge) or one that contains `SENTINEL` takes the tracking
    path, so a 100,000-entry list normalizes in a fraction of a second.
    """
    forms: list[TermForm | None] = [None] * len(terms)
    batch = [i for i, term in enumerate(terms) if SENTINEL not in term]
    if batch:
        base = _base_view(SENTINEL.join(terms[i] for i in batch))
        gapped = _gapped_view(base)
        collapsed = _REPEAT_RE.sub("", gapped).split(SENTINEL)
        for i, before, view in zip(batch, base.split(SENTINEL), collapsed, strict=True):
            # Nothing dropped, so no gap and every run is 1 (a key keeps no edge space).
            if len(view) == len(before) and view.strip(" ") == view:
                forms[i] = _without_trailing_stretch(TermForm(view, (1,) * len(view), ()))
    return [form if form is not None else term_form(term)
            for form, term in zip(forms, terms, strict=True)]
