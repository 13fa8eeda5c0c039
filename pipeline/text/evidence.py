"""Whether a match that the match view joined across separators was written that way on purpose,
and whether an allow entry's context holds. Pure; run only on candidate hits.

The match view drops separators between letters so that `し ね` and `f.u.c.k` are found; on its
own that would also join neighbouring words of ordinary sentences (`…ないし、ねこ…`). A joined
match counts only with evidence of deliberate spacing, judged on the text as written:

- gaps of invisible characters (zero-width, bidi and format controls), stretching marks (ー
  after a kanji, a vowel stretching the kana before it) and odd voiced marks are always
  evasion: nobody writes them between the letters of two words;
- a term's own gaps are expected (the っ of ぶっ殺す, the space of LINE 交換 when the list wrote
  one), and so is whitespace where Latin letters meet Japanese ones (LINE 交換);
- any other gaps must all be of one kind (`こ ろ・す` mixes two: not one word spaced out);
- the match must not be glued to unspaced letters on both sides (`…ないし ねこ…` is two words);
- sentence punctuation (、。！？,.!?) and line ends are hard boundaries: a match across one
  counts only when the whole word is written one letter per separator, standing alone (`し。ね。`,
  `f.u.c.k`, a letter per line);
- single Latin letters separated by commas never join (`a, s, s` is a list).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.text.normalize import Tracked, invisible

_HARD = frozenset("、。！？，．,.!?｡､…‥\n\r\v\f\u2028\u2029\u0085")
# Whitespace in a gap's kind is one space, so a line end must be told apart before that.
_LINE_ENDS = frozenset("\n\r\v\f\u2028\u2029\u0085")
_SENTENCE_END = frozenset(".!?。！？｡")
_COMMAS = frozenset(",、，､")
# Characters whose presence in a gap is itself the evidence: long-vowel and voiced marks, and
# the vowels the match view drops as stretching (きもおおい).
_FREE = frozenset("ーｰ\u3099\u309a\u309b\u309c\uff9e\uff9fあいうえおぁぃぅぇぉアイウエオァィゥェォ"
                  "ｱｲｳｴｵｧｨｩｪｫ")
_SMALL_TSU = frozenset("っッｯ")


def _visible(gap: str) -> str:
    return "".join(c for c in gap if not invisible(c))


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _is_japanese(ch: str) -> bool:
    return not ch.isascii() and ch.isalpha()


def _glued(text: str, index: int, step: int) -> bool:
    """Whether the first visible character from `index` on (in `step` direction, stretching
    marks skipped) is a letter or digit."""
    while 0 <= index < len(text):
        ch = text[index]
        if not (invisible(ch) or ch in _FREE):
            return ch.isalnum()
        index += step
    return False


#: A gap that separates two letters of a match: its span in the text as written and its kind
#: (the set of visible characters in it, whitespace as one space).
Gap = tuple[int, int, frozenset[str]]


def separating_gaps(text: str, match: Tracked, start: int, end: int, key: str,
                    own_gaps: Sequence[int] = ()) -> tuple[list[Gap], int] | None:
    """The gaps between the letters of `match.text[start:end]` (a hit for `key`) that need
    evidence, and how many pairs of neighbouring letters the key has (its own word gaps not
    counted); None when the match cannot be one word at all (Latin letters separated by commas,
    a multi-word term across the end of a sentence)."""
    starts, ends = match.starts, match.ends
    gaps: list[Gap] = []
    pairs = 0
    for i in range(start, end - 1):
        k = i - start
        left, right = key[k], key[k + 1]
        if left == " " or right == " ":
            continue  # the term's own word gap: judged below
        pairs += 1
        a, b = ends[i], starts[i + 1]
        if a >= b:
            continue
        gap = _visible(text[a:b])
        if k in own_gaps:  # the term has a っ or a space here: only what else is there counts
            gap = "".join(c for c in gap if c not in _SMALL_TSU and not c.isspace())
        if not gap or all(c in _FREE for c in gap):
            continue
        if gap.isspace() and ((_is_latin(left) and _is_japanese(right))
                              or (_is_japanese(left) and _is_latin(right))):
            continue
        if _is_latin(left) and _is_latin(right) and any(c in _COMMAS for c in gap):
            return None
        gaps.append((a, b, frozenset("\n" if c in _LINE_ENDS else " " if c.isspace() else c
                                     for c in gap if c not in _FREE)))
    for i in range(start, end):
        if key[i - start] == " " and any(c in _SENTENCE_END for c in text[starts[i]:ends[i]]):
            return None
    return gaps, pairs


def deliberate(text: str, match: Tracked, start: int, end: int, key: str,
               own_gaps: Sequence[int] = ()) -> list[Gap] | None:
    """Whether `match.text[start:end]` (a hit for `key`) was written as one word.

    Args:
        text: the text as written.
        match: its tracked match view.
        start: where the hit starts in the match view.
        end: where it ends.
        key: the entry's match view (its characters may be spaces: multi-word Latin terms).
        own_gaps: the positions `i` of `key` after which the term itself has a gap.

    Returns:
        None when it was not; else the gaps that separate its letters (empty when none).
    """
    if " " not in key and match.ends[start:end - 1] == match.starts[start + 1:end]:
        return []  # written as it is matched: nothing between its letters (C-level check)
    found = separating_gaps(text, match, start, end, key, own_gaps)
    if found is None:
        return None
    gaps, pairs = found
    if not gaps or key.isdigit():
        return gaps  # a number's groups are its own: 0120-99-7777 glued to text is one number
    if len({kind for _, _, kind in gaps}) > 1:
        return None
    glued_before = _glued(text, match.starts[start] - 1, -1)
    glued_after = _glued(text, match.ends[end - 1], 1)
    if any(c in _HARD for _, _, kind in gaps for c in kind):
        alone = len(gaps) == pairs and not glued_before and not glued_after
        return gaps if alone else None
    return None if glued_before and glued_after else gaps


def covers(allow: tuple[int, int, list[Gap]], start: int, end: int) -> bool:
    """Whether an allow match (span as written, its gaps) hides a hit at `start:end`.

    The hit must lie entirely inside the allow match, and the allow's letters outside the hit
    must be spaced the way the hit's own letters are: `む か し ね` is the allow phrase spaced
    out, but in `た「しね」` the bracket sets た apart from a quoted しね.
    """
    a_start, a_end, gaps = allow
    if not (a_start <= start and end <= a_end):
        return False
    inner = {kind for g_start, g_end, kind in gaps if start <= g_start and g_end <= end}
    return all(kind in inner for g_start, g_end, kind in gaps
               if not (start <= g_start and g_end <= end))


#: A condition of an allow entry on its surroundings, as parsed from the list's `context` cell:
#: ("word", "") or ("before" | "!before" | "after" | "!after", characters in match-view form).
Condition = tuple[str, str]


def context_holds(match_text: str, start: int, end: int,
                  conditions: Sequence[Condition]) -> bool:
    """Whether the match view around `match_text[start:end]` meets every condition.

    The character before (after) is the match view's: separators are a space there, and the
    edge of the text counts as a space.
    """
    before = match_text[start - 1] if start > 0 else " "
    after = match_text[end] if end < len(match_text) else " "
    for kind, chars in conditions:
        if kind == "word":
            if before.isalnum() or after.isalnum():
                return False
        elif kind == "before":
            if before not in chars:
                return False
        elif kind == "!before":
            if before in chars:
                return False
        elif kind == "after":
            if after not in chars:
                return False
        elif kind == "!after" and after in chars:
            return False
    return True
