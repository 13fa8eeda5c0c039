"""Built-in detectors for exchanged contact details (mode `watch`, category `contact`).

They run on normalized text (full-width digits and letters already plain, case folded), so one
pattern catches every width. Each detector returns spans in normalized coordinates.

Ordinary numbers must not fire: a phone number needs a leading 0 (or +81) and 10-11 digits,
so dates, prices and scores pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Span = tuple[str, int, int]

_SEP = r"[\s\-‐‑–—―−ー.()（）]"
_PHONE_RE = re.compile(rf"(?<![\d.])(?:\+81{_SEP}*|0)(?:\d{_SEP}{{0,2}}){{8,9}}\d(?!\d)")
_EMAIL_RE = re.compile(
    r"(?<![a-z0-9._%+\-])[a-z0-9][a-z0-9._%+\-]{0,63}@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,24}"
)
_URL_RE = re.compile(r"(?:https?|ftp)://[^\s<>\"'「」、。]+|www\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
_TLDS = (
    "com|net|org|info|biz|jp|io|me|co|tv|xyz|app|site|online|top|club|link|ly|gl|cc|to|in|us|uk"
)
_DOMAIN_RE = re.compile(
    rf"(?<![a-z0-9@.\-])(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![a-z0-9\-])"
    rf"(?:/[^\s<>\"'「」、。]*)?"
)
_ID_RE = re.compile(
    r"(?:\b(?:line|kakao|skype|discord|insta|instagram|twitter|tiktok|telegram)|"
    r"らいん|かかお|いんすた|ついったー)?\s*(?:\bid|あいでぃー?)\s*[:=]\s*[a-z0-9][a-z0-9._\-]{2,31}"
)


def _finditer(name: str, pattern: re.Pattern[str]) -> Callable[[str], list[Span]]:
    def detect(text: str) -> list[Span]:
        return [(name, m.start(), m.end()) for m in pattern.finditer(text)]

    return detect


def _detect_phone(text: str) -> list[Span]:
    spans = []
    for m in _PHONE_RE.finditer(text):
        digits = sum(c.isdigit() for c in m.group())
        if m.group().startswith("+81") or digits in (10, 11):
            spans.append(("phone", m.start(), m.end()))
    return spans


_detect_email = _finditer("email", _EMAIL_RE)
_detect_url = _finditer("url", _URL_RE)
_detect_id = _finditer("messaging_id", _ID_RE)


def _detect_domain(text: str) -> list[Span]:
    return [("url", m.start(), m.end()) for m in _DOMAIN_RE.finditer(text)]


DETECTORS: dict[str, Callable[[str], list[Span]]] = {
    "phone": _detect_phone,
    "email": _detect_email,
    "url": _detect_url,
    "domain": _detect_domain,
    "messaging_id": _detect_id,
}

# A cheap pre-check: without a digit, '@', ':' / '=' or a dot none of the detectors can fire.
_TRIGGER_RE = re.compile(r"[0-9@:=.]")


def detect_contacts(text: str, enabled: tuple[str, ...] = tuple(DETECTORS)) -> list[Span]:
    """Contact-detail spans in normalized text, overlapping spans of one kind merged."""
    if not _TRIGGER_RE.search(text):
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
