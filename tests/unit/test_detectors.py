"""Contact-detail detectors: what fires, and ordinary numbers that must not."""

from __future__ import annotations

import random
import re

import pytest

from pipeline.text.detectors import (
    _finditer,
    _spaced,
    _word,
    detect_contacts,
    might_contain_contacts,
)
from pipeline.text.normalize import views


def kinds(text: str) -> list[str]:
    return [name for name, _, _ in detect_contacts(views(text).base)]


@pytest.mark.parametrize(("text", "expected"), [
    ("090-1234-5678", ["phone"]),
    ("09012345678", ["phone"]),
    ("090 1234 5678", ["phone"]),
    ("(03)1234-5678", ["phone"]),
    ("03(1234)5678", ["phone"]),
    ("+81 90 1234 5678", ["phone"]),
    ("０９０ー１２３４ー５６７８", ["phone"]),
    ("a.b@example.co.jp", ["email"]),
    ("ＡＢＣ＠ｅｘａｍｐｌｅ．ｃｏｍ", ["email"]),
    ("http://example.com/a?b=c", ["url"]),
    ("go to example.jp now", ["url"]),
    ("www.example.org", ["url"]),
    ("LINE ID: abc123", ["messaging_id"]),
    ("ID：abc.def", ["messaging_id"]),
    ("kakao id=hello_1", ["messaging_id"]),
    ("ぜろきゅうぜろ いちにさんよん ごろくななはち", ["phone"]),
    ("〇九〇ー一二三四ー五六七八", ["phone"]),
    ("ゼロハチゼロの1234の5678", ["phone"]),
    ("zero nine zero one two three four five six seven eight", ["phone"]),
    ("hana at example dot com", ["email"]),
    ("hana あっとまーく example どっと com", ["email"]),
    ("ｈａｎａ（ａｔ）ｅｘａｍｐｌｅ（ｄｏｔ）ｊｐ", ["email"]),
    ("example どっと こむ", ["url"]),
    ("insta @hana_123", ["messaging_id"]),
    ("LINE: hana1234", ["messaging_id"]),
    # The forms Japanese posts use.
    ("LINE→hana1234", ["messaging_id"]),
    ("ライン→mimi_chan", ["messaging_id"]),
    ("ID→abcdef", ["messaging_id"]),
    ("ID > hana", ["messaging_id"]),
    ("IDは hana.0101", ["messaging_id"]),
    ("LINE hana1234", ["messaging_id"]),
    ("ID hana_chan", ["messaging_id"]),
    ("L I N E : hana1234", ["messaging_id"]),
    ("I.D: mimi", ["messaging_id"]),
    ("らいんのID→mimi22", ["messaging_id"]),
    ("テレグラム→yami_job", ["messaging_id"]),
    ("hana @ example . com", ["email"]),
    ("hana @gmail.com", ["email"]),
    ("hana アットマーク example ドット com", ["email"]),
    ("090の1234の5678", ["phone"]),
    ("ゼロキューゼロ いちにーさんよん ごーろくななはち", ["phone"]),
    ("ぜろはちぜろ、きゅーはちななろく、ごーよんさんにー", ["phone"]),
    ("o9o-1234-5678", ["phone"]),
    ("O8O l234 5678", ["phone"]),
    ("090-一二三四-5678", ["phone"]),
    ("〇90-1234-五六七八", ["phone"]),
    ("https://lin.ee/abcd123", ["url"]),
    ("lin.ee/abcd123 追加して", ["url"]),
    ("line.me/ti/p/abc", ["url"]),
    ("bit.ly/3xyz で見て", ["url"]),
    ("is.gd/abc", ["url"]),
    # Boundaries: 10 and 11 digits, glued to letters or kanji.
    ("0312345678", ["phone"]),
    ("TEL09012345678", ["phone"]),
    ("電話09012345678です", ["phone"]),
])
def test_detects(text: str, expected: list[str]) -> None:
    assert kinds(text) == expected


@pytest.mark.parametrize("text", [
    "2024-05-01",
    "2024/05/01 12:30",
    "3,500円",
    "1,250 points in 3 minutes",
    "スコアは3-2",
    "12345678901",
    "version 1.2.3",
    "e.g. this",
    "時給1000円",
    "郵便番号123-4567",
    "I paid 0.5 dollars",
    "user id is secret",
    "いちにさんしごろくななはちきゅうじゅう",
    "今日は二時に三人でご飯",
    "零時に集合ね",
    "at the park at noon",
    "I will be there at 5",
    "what do you do at home",
    "@everyone good morning",
    # Numbers and words that resemble the new forms.
    "0012345678",
    "00-1234-5678",
    "電話は0012-34-5678 (国際)",
    "2024の5月の大会",
    "LINE today was fun",
    "ID number on the card",
    "IDカード忘れた",
    "iPhone 15 pro max",
    "SH-01K 使ってる",
    "a7 IV 買った",
    "1,980円 → 980円に値下げ",
    "3-2 → 4-2 で逆転",
    "2024/05/01 → 05/03",
    "¥12,000",
    "ゲームID→まだない",
    "line up the cups",
    "on line 12 of the file",
    "oil 100 liters",
    "I'm at home. Come soon",
    # Boundaries: 9 and 12 digits, digits glued before or after, at/dot without spaces.
    "031234567",
    "090123456789",
    "1090-1234-5678",
    "090-1234-56789",
    "hanaatexampledotcom",
    "hana at exampledotcom",
    "hanaat example dot com",
    # A label must not end a longer word, in its spaced spelling either.
    "I paid 3.5k for it",
    "she said kenji_2 was late",
    "android v12.1 update",
    "online abc_12",
    # Letters for digits: still never 00 (an international call prefix).
    "o0o-1234-5678",
])
def test_ordinary_text_does_not_fire(text: str) -> None:
    assert kinds(text) == []


def test_domain_inside_mail_address_is_one_hit() -> None:
    assert kinds("hana@example.com") == ["email"]


def test_trigger_is_the_plainly_spelled_one() -> None:
    """The trigger pattern is written for speed; it must find exactly what the plain spelling
    of the same triggers finds, word boundaries of "at" included."""
    plain = re.compile(
        r"[0-9@:=.〇零一二三四五六七八九_→⇒➡➔>]|ぜろ|れい|まる|zero|あっと|どっと|dot|\bat\b"
    )
    rng = random.Random(5)
    alphabet = [*"atzerodぜろれいまるあっとど九5:= .x_", "\ue000", "ー"]
    texts = ["at", "cat", "at_", "a t", "hat at", "ぜ", "ろ", "ze ro", "どっ", "", "見てat"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
              for _ in range(20_000)]
    for text in texts:
        assert might_contain_contacts(text) == (plain.search(text) is not None), repr(text)


@pytest.mark.parametrize(("word", "text", "found"), [
    ("line", "line", "line"), ("line", "l i n e", "l i n e"), ("line", "l.i.n.e", "l.i.n.e"),
    ("line", "l・i・n・e", "l・i・n・e"), ("line", "my line", "line"),
    ("line", "online", None), ("line", "o l i n e", "l i n e"), ("line", "2line", None),
    ("id", "paid", None), ("id", "i d", "i d"),
    ("x", "x", "x"), ("x", "ax", None),  # one letter: no spaced spelling to check
    ("らいん", "らいん", "らいん"), ("らいん", "aらいん", "らいん"),  # not Latin: no word check
    ("らいん", "ら い ん", None),
])
def test_a_label_and_its_spaced_spelling(word: str, text: str, found: str | None) -> None:
    match = re.search(_spaced(word), text)
    assert (match.group() if match else None) == found


def test_word_check_is_for_latin_words_only() -> None:
    assert re.search(_word("id"), "paid") is None
    assert re.search(_word("id"), "pa id") is not None
    assert _word("らいん") == "らいん"


def test_a_pattern_detector_names_every_match() -> None:
    detect = _finditer("x", re.compile("an"))
    assert detect("banana") == [("x", 1, 3), ("x", 3, 5)]
    assert detect("") == []
