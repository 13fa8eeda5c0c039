"""Rules with context: a term near another term, or near a named number pattern. Pure.

A rule is a wordlist line with a `near` cell (see `pipeline.text.wordlists`): it fires when one
of the alternatives of its `term` cell and one of the alternatives of its `near` cell occur in a
post with at most `within` characters between them (either order). Alternatives are separated
by `|`; each is a term, matched like any list term (normalization, spacing evidence), or a named
pattern in braces, matched on the base view:

- `{price}`: an amount of money (2万, 1.5万, 15000円, ¥20000, 2まん, 苺 = 1.5万, 諭吉2);
- `{offer}`: a price offered or asked for (1.5万でどう, 3万くれるなら, 苺でいいよ, 2万なら
  ok): the price and the words after it that make it a deal;
- `{price_short}`: the bare shorthand that follows paid-dating words (ホ別1.5, ホ別2, ホ別苺);
- `{age}`: an age in years (15歳, 16才, 17さい);
- `{grade}`: a school grade or school-girl/-boy label (中2, 高1, 小6, JC, JK2, 中学生, 高校生).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from pipeline.text.normalize import Tracked

# 苺 (いちご) for 1.5万 is slang; the fruit, its sweets and its picking are not a price.
_FRUIT = (r"(?!\s*(?:の\s*)?"
          r"(?:狩|味|大福|みるく|ぱふぇ|じゃむ|け.き|たると|ぱん|ちょこ|あめ|飴|畑|農園))")
_PRICE = (
    r"[0-9０-９¥￥$苺諭ゆい]"
    r"(?:(?<=[0-9０-９])(?<![0-9.][0-9])[0-9,]*(?:\.[0-9]+)?\s*(?:万|まん|千|円|えん|k(?![a-z]))"
    rf"|(?<=[¥￥$])\s*[0-9][0-9,]*|(?<=苺){_FRUIT}|(?:(?<=諭)吉|(?<=ゆ)きち)(?:\s*[0-9](?:\.[0-9])?(?![0-9])\s*枚?)?|(?<=い)ちご{_FRUIT})"
)
#: The named patterns, over the base view (case-folded, katakana as hiragana, full width
#: folded). Each starts with one class of all its first characters (alternatives are told apart
#: by lookbehind after it), so a scan of a whole batch skips every other character in C: the
#: filter core searches every post for the patterns of rules made of patterns alone.
PATTERNS: dict[str, re.Pattern[str]] = {
    "price": re.compile(_PRICE),
    "offer": re.compile(
        _PRICE + r"\s*(?:で\s*(?:どう(?!に|しよう|して)|会|お願い|いい(?:よ|です|なら|人|子))"
        r"|くれる(?:なら|人|方)|くれたら|(?:なら|で)\s*(?:ok|おk|おけ|いける))"
    ),
    "price_short": re.compile(
        r"[0-9苺い](?:(?<=[0-9])(?<![0-9.][0-9])(?:\.[0-9])?(?![0-9])|(?<=苺)|(?<=い)ちご)"
    ),
    "age": re.compile(r"[0-9](?<![0-9][0-9])[0-9]?\s*(?:歳|才|さい)"),
    "grade": re.compile(
        r"[中高小jJ](?:(?<=[中高小])\s*[1-6一二三四五六](?![0-9])|(?<=[中高小])(?:学生|校生|坊)"
        r"|(?<![a-z]j)(?<=j)[csk]\s*[1-6]?(?![a-z]))"
    ),
}
_NAME_RE = re.compile(r"^\{([a-z_]+)\}$")


class Rule(msgspec.Struct, frozen=True, gc=False):
    """One rule line.

    Attributes:
        term: how hits of the rule are named (`<term cell> & <near cell>`).
        left: the alternatives of the term cell (terms as written, or `{pattern}`).
        right: the alternatives of the near cell.
        within: the most characters allowed between the two parts.
    """

    term: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    within: int
    mode: str
    category: str
    sites: frozenset[str] | None
    priority: int | None
    path: str
    line: int

    @property
    def patterns(self) -> set[str]:
        """The named patterns the rule uses."""
        return {m.group(1) for alt in self.left + self.right
                if (m := _NAME_RE.match(alt)) is not None}


def split_alternatives(cell: str) -> tuple[str, ...]:
    """The `|`-separated alternatives of a rule cell.

    Raises:
        ValueError: an empty alternative or an unknown pattern name, with the reason.
    """
    alternatives = tuple(a.strip() for a in cell.split("|"))
    for alt in alternatives:
        if not alt:
            raise ValueError(f"rule part {cell!r} has an empty alternative")
        name = _NAME_RE.match(alt)
        if alt.startswith("{") and (name is None or name.group(1) not in PATTERNS):
            raise ValueError(f"rule part {alt!r} is not a known pattern "
                             f"({', '.join('{' + p + '}' for p in PATTERNS)})")
    return alternatives


def pattern_name(alternative: str) -> str | None:
    """The pattern an alternative names, or None for a plain term."""
    match = _NAME_RE.match(alternative)
    return match.group(1) if match else None


def pattern_spans(base: Tracked, names: set[str]) -> dict[str, list[tuple[int, int]]]:
    """Where each named pattern occurs, in offsets of the text as written."""
    return {name: [base.span(*m.span()) for m in PATTERNS[name].finditer(base.text)]
            for name in names}


#: A span in the text as written.
Span = tuple[int, int]


def near(lefts: Sequence[Span], rights: Sequence[Span], within: int) -> Span | None:
    """The first pair of a left and a right span at most `within` characters apart (either
    order, overlapping spans excluded), as one span covering both."""
    for l_start, l_end in lefts:
        for r_start, r_end in rights:
            if l_start < r_end and r_start < l_end:
                continue  # the same characters cannot be both parts
            if max(l_start, r_start) - min(l_end, r_end) <= within:
                return min(l_start, r_start), max(l_end, r_end)
    return None
