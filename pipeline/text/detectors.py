"""Built-in detectors for exchanged contact details (mode `watch`, category `contact`).

They read the base view (full-width forms folded, case folded, katakana as hiragana), so one
pattern catches every width. Each detector returns `(name, start, end)` spans in base-view
coordinates.

- `phone`: 10-11 digit numbers starting with 0 (or +81; never 00), with any separators (の
  too), in ASCII or full-width digits, kanji numerals (〇九〇…), digits spelled in kana or
  English (ぜろきゅうぜろ…, きゅー, zero nine zero…), the three mixed, or letters for digits
  (o9o-l234…). Dates, prices, scores and postcodes do not fire.
- `email`: mail addresses, also with spaces around @ and dots, with "at"/"dot" spelled out in
  English or Japanese (あっとまーく, どっと) or bracketed ((at), [dot]).
- `url`: http(s) URLs, `www.` hosts, and bare domains with a common TLD or a short-link domain
  (lin.ee, line.me, bit.ly, is.gd), also `どっとこむ`.
- `messaging_id`: messaging-app and SNS IDs after a label (ID, LINE, ライン, カカオ, テレグラム,
  insta…, also spaced out: L I N E), joined by a colon, an arrow (→, ->, >), は, or a space
  alone when the ID looks like one (letters with a digit, _ or .).
"""

from __future__ import annotations

import re
from collections.abc import Callable

Span = tuple[str, int, int]

# \ue001 is a long-vowel mark inside a katakana word (pipeline.text.normalize.KATAKANA_LONG);
# の joins the groups of a number read aloud (090の1234の5678).
_SEP = r"[\s\-‐‑–—―−ー\ue001.()（）・,、の]"

# Patterns start with a character they consume and check what precedes it with a lookbehind
# placed after it: the regex engine then skips most positions of a batch quickly. A Japanese
# number's second digit is never 0 (00 starts an international call prefix).
_PHONE_RE = re.compile(
    rf"(?:0(?<![\d.]0)(?!{_SEP}{{0,2}}0)|\+(?<![\d.]\+)81{_SEP}*)(?:\d{_SEP}{{0,2}}){{8,9}}\d"
    rf"(?!\d)"
)
# Letters standing in for digits: o for 0, l and i for 1 (o9o-1234-5678).
_LETTERED_PHONE_RE = re.compile(
    rf"[0o](?<![\w.][0o])(?:[\doli]{_SEP}{{0,2}}){{8,9}}[\doli](?![\w])"
)
_LETTER_DIGITS = str.maketrans("oli", "011")

# Digit words: kanji numerals and readings in kana and English, longest alternatives first.
_DIGIT_WORDS = {
    "〇": "0", "零": "0", "ぜろ": "0", "れい": "0", "まる": "0", "zero": "0", "oh": "0",
    "一": "1", "いち": "1", "one": "1",
    "二": "2", "に": "2", "two": "2",
    "三": "3", "さん": "3", "three": "3",
    "四": "4", "よん": "4", "し": "4", "four": "4",
    "五": "5", "ご": "5", "five": "5",
    "六": "6", "ろく": "6", "six": "6",
    "七": "7", "なな": "7", "しち": "7", "seven": "7",
    "八": "8", "はち": "8", "eight": "8",
    "九": "9", "きゅう": "9", "きゅー": "9", "きゅ\ue001": "9", "く": "9", "nine": "9",
    "にー": "2", "に\ue001": "2", "ごー": "5", "ご\ue001": "5", "ぜろー": "0",
}
_DIGIT_WORD = "|".join(sorted(map(re.escape, _DIGIT_WORDS), key=len, reverse=True))
# Read aloud, the parts of a number are often joined with の (ぜろはちぜろの…).
_SPOKEN_SEP = _SEP
_ZERO_WORDS = ("〇", "零", "ぜろ", "れい", "まる", "zero", "oh")
# A spelled number starts with a spelled zero and has 10 or 11 digits in all.
_SPELLED_PHONE_RE = re.compile(
    rf"(?:0(?<!\d0)|{'|'.join(_ZERO_WORDS)})"
    rf"(?:{_SPOKEN_SEP}*(?:\d|{_DIGIT_WORD})){{9,10}}(?!\d)"
)
_DIGIT_TOKEN_RE = re.compile(rf"\d|{_DIGIT_WORD}")

# Short-link and messaging domains (lin.ee, line.me, bit.ly, t.co, is.gd, rb.gy) included.
_TLDS = (
    "com|net|org|info|biz|jp|io|me|co|tv|xyz|app|site|online|top|club|link|ly|gl|cc|to|in|"
    "us|uk|ee|gd|gy|gg|page|ws"
)
# Spaces around @ and dots are allowed (hana @ example . com).
_AT = r"(?:\s*@\s*|\s*[(\[<]at[)\]>]\s*|\s+at\s+|\s*あっと(?:ま[ー\ue001]く)?\s*)"
_DOT = r"(?:\s*\.\s*|\s*[(\[<]dot[)\]>]\s*|\s+dot\s+|\s*どっと\s*)"
_EMAIL_RE = re.compile(
    rf"[a-z0-9](?<![a-z0-9._%+\-][a-z0-9])[a-z0-9._%+\-]{{0,63}}{_AT}"
    rf"[a-z0-9\-]+(?:{_DOT}[a-z0-9\-]+)*{_DOT}(?:{_TLDS})(?![a-z0-9])"
)
# \ue000 is the batch sentinel between two posts (pipeline.text.normalize.SENTINEL).
_URL_RE = re.compile(
    r"(?:https?|ftp)://[^\s<>\"'「」、。\ue000]+|www\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+"
)
_LABEL = r"(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)"
_DOMAIN_RE = re.compile(
    rf"[a-z0-9](?<![a-z0-9@.\-][a-z0-9])(?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.(?:{_LABEL}\.)*"
    rf"(?:{_TLDS})(?![a-z0-9\-])(?:/[^\s<>\"'「」、。\ue000]*)?"
)
_SPELLED_DOMAIN_RE = re.compile(
    r"[a-z0-9](?<![a-z0-9.\-][a-z0-9])[a-z0-9\-]{1,62}\s*(?:どっと|[(\[]dot[)\]])\s*"
    r"(?:com|net|jp|org|こむ|ねっと|じぇーぴー)"
)


def _word(word: str) -> str:
    """A word that must not continue a longer Latin word ("id" but not "paid")."""
    return f"{word}(?<![a-z0-9]{word})" if word.isascii() else word


def _spaced(word: str) -> str:
    """A label, also written with a space or dot between its letters (l i n e, I.D). Neither
    spelling may continue a longer Latin word: the spaced one, whose separators are optional,
    also matches the plain word, so its first letter gets the same check ("paid", "online")."""
    return _word(word) + ("|" + r"[\s.・]?".join([_word(word[0]), *map(re.escape, word[1:])])
                          if word.isascii() and len(word) > 1 else "")


_APPS = ("line", "kakao", "skype", "discord", "telegram", "wechat", "らいん", "かかお",
         "かかおと\ue001く", "てれぐらむ", "しぐなる", "signal")
_SNS = ("instagram", "insta", "twitter", "tiktok", "いんすた", "ついった\ue001", "ついったー",
        "てぃっくとっく")
# A label, then what joins it to the ID: a colon or equals sign, an arrow (→, ⇒, ->, >), は, or
# nothing but a space; the ID itself. Without a colon or arrow the ID must look like one (a
# letter and a digit, _ or .), so "LINE today" and "ID number" stay ordinary words.
_ID_RE = re.compile(
    "(?P<label>(?:" + "|".join(_spaced(w) for w in _APPS) + r")\s*(?:id)?"
    "|(?:" + "|".join(_spaced(w) for w in ("id", "あいでぃー", "あいでぃ")) + ")"
    "|(?:" + "|".join(_spaced(w) for w in _SNS) + "))"
    r"(?:\s*の?\s*(?:id)?)?\s*(?P<joint>[:=>→⇒➡➔]|->|=>|は)?\s*(?P<at>@)?"
    r"(?P<id>[a-z0-9][a-z0-9._\-]{2,31})(?![a-z0-9._\-])"
)
_ID_LIKE_RE = re.compile(r"(?=.*[a-z])(?=.*[0-9._])")


def _detect_ids(text: str) -> list[Span]:
    spans = []
    for m in _ID_RE.finditer(text):
        if m.group("joint") or m.group("at") or _ID_LIKE_RE.match(m.group("id")):
            spans.append(("messaging_id", m.start(), m.end()))
    return spans


def _finditer(name: str, pattern: re.Pattern[str]) -> Callable[[str], list[Span]]:
    def detect(text: str) -> list[Span]:
        return [(name, m.start(), m.end()) for m in pattern.finditer(text)]

    return detect


def _is_phone(digits: str) -> bool:
    return digits.startswith("0") and not digits.startswith("00") and len(digits) in (10, 11)


# A spelled number starts with a spelled zero, or mixes Arabic digits with kanji numerals.
_SPELLED_GATE_RE = re.compile("|".join(_ZERO_WORDS) + "|[一二三四五六七八九]")


def _detect_phone(text: str) -> list[Span]:
    spans = []
    for m in _PHONE_RE.finditer(text):
        if m.group().startswith("+81") or _is_phone("".join(filter(str.isdigit, m.group()))):
            spans.append(("phone", m.start(), m.end()))
    for m in _LETTERED_PHONE_RE.finditer(text):
        token = m.group()
        digits = "".join(filter(str.isalnum, token)).translate(_LETTER_DIGITS)
        if (_is_phone(digits) and not token.isdigit() and sum(map(str.isdigit, token)) >= 6
                and any(c in "oli" for c in token)):
            spans.append(("phone", m.start(), m.end()))
    if not _SPELLED_GATE_RE.search(text):
        return spans
    for m in _SPELLED_PHONE_RE.finditer(text):
        tokens = _DIGIT_TOKEN_RE.findall(m.group())
        digits = "".join(_DIGIT_WORDS.get(t, t) for t in tokens)
        if _is_phone(digits) and not all(t.isdigit() for t in tokens):
            spans.append(("phone", m.start(), m.end()))
    return spans


DETECTORS: dict[str, Callable[[str], list[Span]]] = {
    "phone": _detect_phone,
    "email": _finditer("email", _EMAIL_RE),
    "url": _finditer("url", _URL_RE),
    "domain": lambda text: [("url", m.start(), m.end()) for m in _DOMAIN_RE.finditer(text)] + (
        [("url", m.start(), m.end()) for m in _SPELLED_DOMAIN_RE.finditer(text)]
        if "どっと" in text or "dot" in text else []),
    "messaging_id": _detect_ids,
}

# A cheap pre-check: with none of these, no detector can fire. The words are matched as their
# first letter followed by a check of which letter it was, so that the whole pattern starts with
# one character class and the regex engine skips other characters with a fast scan (spelled as
# alternatives, it was tried at every position: twice as slow).
_TRIGGER_CHARS = "0-9@:=.〇零一二三四五六七八九_→⇒➡➔>"
_TRIGGER_WORDS = ("ぜろ", "れい", "まる", "zero", "あっと", "どっと", "dot")
_TRIGGER_RE = re.compile(
    f"[{_TRIGGER_CHARS}{''.join(w[0] for w in _TRIGGER_WORDS)}a]"
    f"(?:(?<=[{_TRIGGER_CHARS}])"
    + "".join(f"|(?<={w[0]}){w[1:]}" for w in _TRIGGER_WORDS)
    + r"|(?<=a)t\b(?<!\wat))"  # the word "at"
)


def might_contain_contacts(text: str) -> bool:
    """False when no detector can fire on `text` (cheap: one search for a trigger)."""
    return _TRIGGER_RE.search(text) is not None


def detect_contacts(text: str, enabled: tuple[str, ...] = tuple(DETECTORS)) -> list[Span]:
    """Contact-detail spans in base-view text; a span inside another is dropped."""
    if not might_contain_contacts(text):
        return []
    spans: list[Span] = []
    for name in enabled:
        spans.extend(DETECTORS[name](text))
    return _drop_contained(spans)


def _drop_contained(spans: list[Span]) -> list[Span]:
    """Drop a span lying inside another (a domain inside a URL or a mail address)."""
    spans.sort(key=lambda s: (s[1], -s[2]))
    kept: list[Span] = []
    for span in spans:
        if kept and kept[-1][1] <= span[1] and span[2] <= kept[-1][2]:
            continue
        kept.append(span)
    return kept
