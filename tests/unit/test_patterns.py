"""The named number patterns of rules with context, on base-view text: what each matches, its
boundaries and its negatives (expectations written by hand)."""

from __future__ import annotations

import pytest

from pipeline.text.rules import PATTERNS


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("price", "2万でどう", ["2万"]),
    ("price", "1.5万", ["1.5万"]),
    ("price", "15000円", ["15000円"]),
    ("price", "¥20000", ["¥20000"]),
    ("price", "3k ok", ["3k"]),
    ("price", "3kg", []),                       # kilograms, not thousands
    ("price", "2まん", ["2まん"]),
    ("price", "苺で", ["苺"]),
    ("price", "いちごでいいよ", ["いちご"]),
    ("price", "諭吉2", ["諭吉2"]),               # with its count of notes
    ("price", "諭吉 3枚", ["諭吉 3枚"]),
    ("price", "諭吉12", ["諭吉"]),
    ("price", "ゆきち", ["ゆきち"]),
    ("price", "苺大福", []),                    # the fruit and its sweets are no price
    ("price", "いちご狩り", []),
    ("price", "いちごのけ\ue001き", []),
    ("price", "いちご みるく", []),
    ("price", "ゆい", []),                      # the first characters alone are nothing
    ("price", "諭す", []),
    ("price", "a12万", ["12万"]),
    ("offer", "1.5万でどうですか", ["1.5万でどう"]),
    ("offer", "3万くれるなら", ["3万くれるなら"]),
    ("offer", "苺でいいよ", ["苺でいいよ"]),
    ("offer", "2万なら ok", ["2万なら ok"]),
    ("offer", "2万で会える", ["2万で会"]),
    ("offer", "諭吉2でどう", ["諭吉2でどう"]),
    ("offer", "2万でどうにか", []),             # "somehow" is no offer
    ("offer", "2万でどうしよう", []),
    ("offer", "2万です", []),
    ("offer", "苺大福でいいよ", []),
    ("price_short", "ほ別1.5", ["1.5"]),
    ("price_short", "12", []),                  # two digits are no shorthand
    ("price_short", "苺", ["苺"]),
    ("age", "15歳", ["15歳"]),
    ("age", "16 才", ["16 才"]),
    ("age", "17さい", ["17さい"]),
    ("age", "115歳", []),
    ("grade", "中2", ["中2"]),
    ("grade", "高 一", ["高 一"]),
    ("grade", "中学生", ["中学生"]),
    ("grade", "jk2", ["jk2"]),
    ("grade", "jc", ["jc"]),
    ("grade", "jcb", []),                       # a longer Latin word
    ("grade", "ajk", []),
    ("grade", "中7", []),
    ("grade", "中25", []),
])
def test_pattern(name: str, text: str, expected: list[str]) -> None:
    assert PATTERNS[name].findall(text) == expected
