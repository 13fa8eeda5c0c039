"""Builds tests/data/eval.tsv, the labeled evaluation set, from hand-written phrases.

    .venv/bin/python -m benchmarks.make_eval_set

Labels come from the phrases, never from mimamori: each harmful phrase is written out plainly
and then with every evasion a user might try (each row names its class); clean posts are
hand-written, many of them chosen to look risky (words that contain an NG word, numbers that
look like phone numbers, help-line mentions). The output is committed so that a change to the
lists or to normalization shows up as a change in the evaluation numbers.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from collections.abc import Callable
from pathlib import Path

from benchmarks import eval_posts as realistic

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "eval.tsv"

# (text, label, lang): label is the verdict a moderator expects: ng, review or clean.
NG_JA = ["お前ほんとにしね", "まじでしね", "死ねよゴミ", "殺すぞお前", "ぶっ殺すからな",
         "学校を爆破してやる", "パパ活しませんか", "援交しよ", "セックスしよ", "覚醒剤あるよ",
         "くたばれクソが", "ガイジは黙れ", "刺してやるからな", "オフパコ募集", "神待ちしてます"]
NG_EN = ["fuck you", "you stupid bitch", "shut up asshole", "kys loser", "kill yourself",
         "i will kill you", "send nudes", "you are a whore", "fucking idiot", "go die"]
WATCH_JA = ["もう死にたい", "リスカしちゃった", "会いませんか", "ライン交換しよ", "きもいんだけど",
            "大麻ってどこで買える", "簡単に稼げる方法", "今から会える人いる", "家に来て",
            "消えたい…", "連絡先教えて", "うざいやつ", "裏垢教えて", "自殺したい",
            "どこ住み？", "番号教えて"]
WATCH_EN = ["i want to die", "where do you live", "add me on snapchat", "free money here",
            "want to meet up?", "i might kill myself", "dm me", "how old are you",
            "where can i get weed", "shit happens"]

_ZW = "\u200b"


def _spaces(t: str) -> str:
    return " ".join(t)


def _symbols(t: str) -> str:
    return "・".join(t)


def _zero_width(t: str) -> str:
    return _ZW.join(t)


def _stars(t: str) -> str:
    return "★".join(t)


def _half_width(t: str) -> str:
    out = []
    for c in t:
        hira = 0x3041 <= ord(c) <= 0x3096
        kata = chr(ord(c) + 0x60) if hira else c
        try:
            name = unicodedata.name(kata)
            out.append(unicodedata.lookup("HALFWIDTH " + name))
        except KeyError:
            decomposed = unicodedata.normalize("NFD", kata)
            if len(decomposed) == 2 and decomposed[1] in "\u3099\u309a":
                try:
                    base = unicodedata.lookup("HALFWIDTH " + unicodedata.name(decomposed[0]))
                    out.append(base + ("ﾞ" if decomposed[1] == "\u3099" else "ﾟ"))
                    continue
                except KeyError:
                    pass
            out.append(c)
    return "".join(out)


def _katakana(t: str) -> str:
    return "".join(chr(ord(c) + 0x60) if 0x3041 <= ord(c) <= 0x3096 else c for c in t)


def _stretch_ja(t: str) -> str:
    return "ーー".join(t[:2]) + t[2:] if len(t) > 1 else t


def _full_width(t: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("　" if c == " " else c)
                   for c in t)


def _leet(t: str) -> str:
    table: dict[str, str | int | None] = {"i": "1", "o": "0", "e": "3", "s": "$", "a": "@"}
    return t.translate(str.maketrans(table))


def _lookalike(t: str) -> str:
    table: dict[str, str | int | None] = {"a": "а", "e": "е", "o": "о", "c": "с", "u": "υ"}
    return t.translate(str.maketrans(table))


def _styled(t: str) -> str:
    return "".join(chr(0x1D41A + ord(c) - 97) if "a" <= c <= "z" else c for c in t)


def _spaced_en(t: str) -> str:
    return " ".join(t.split(" ")[0]) + (" " + t.split(" ", 1)[1] if " " in t else "")


def _stretch_en(t: str) -> str:
    for i, c in enumerate(t):
        if c in "aeiou":
            return t[:i] + c * 4 + t[i + 1:]
    return t


def _upper(t: str) -> str:
    return t.upper()


def _strike(t: str) -> str:
    return "".join(c + "\u0336" if c.isalpha() else c for c in t)


JA_EVASIONS: dict[str, Callable[[str], str]] = {
    "plain": lambda t: t, "spaces": _spaces, "symbols": _symbols, "stars": _stars,
    "zero_width": _zero_width, "half_width": _half_width, "katakana": _katakana,
    "long_vowel": _stretch_ja,
}
EN_EVASIONS: dict[str, Callable[[str], str]] = {
    "plain": lambda t: t, "upper": _upper, "full_width": _full_width, "leet": _leet,
    "lookalike": _lookalike, "styled": _styled, "spaced_letters": _spaced_en,
    "stretch": _stretch_en, "strike": _strike,
}

CONTACT = [
    "電話して 090-1234-5678", "09012345678に連絡して", "080 9876 5432 だよ", "０９０ー１１１１ー２２２２",
    "電話はぜろきゅうぜろ いちにさんよん ごろくななはち", "〇八〇ー九八七六ー五四三二", "+81 90 1234 5678",
    "(03)1234-5678まで", "メールは hana123@example.com", "ｈａｎａ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    "hana at example dot com", "hana あっとまーく example どっと com", "hana(at)example(dot)jp",
    "ここ見て https://example.net/x", "www.example-site.com においで", "example.jp で検索して",
    "LINE ID: hana_0101", "ID：mimi1234", "らいん id=abc_def", "insta @hana.01",
    "line: hana2000", "call me at 090-2222-3333", "my email is bob.smith@example.org",
    "check www.example.info", "kik me, id: cutie_22",
]
CLEAN = [
    # contain NG letters but are innocent
    "わたしね、昨日ケーキ作ったの", "あたしね、犬飼ってるんだ", "むかしね、ここによく来てた", "すこしね、疲れたかも",
    "もしね、明日晴れたら公園行こう", "かわいいしね、優しいし", "このゲーム楽しいしね", "好きだしね、あのバンド",
    "昨日行ったしね、また今度", "お金もあるしね", "寿司ね、食べたい", "その話ね、聞いたよ",
    "シネマで映画見てきた", "しねんじょのとろろ美味しい", "くずもち食べたい", "ぶすっとした顔してる",
    "the class assessment went well", "our classic car club", "pass the assessment", "the button is red",
    "we met on wednesday", "I love cocktails", "Scunthorpe is a town", "the suicide squad movie was fun",
    "call the suicide prevention hotline if you need help", "weed killer for the garden",
    "a molly is also a fish", "my teacher is kind", "shiitake mushrooms are tasty",
    "自殺防止のキャンペーンに参加した", "自殺予防週間のポスター", "ゲームのボスを倒した",
    # numbers that are not contact details
    "2024-05-01の大会に出る", "チケット3,500円だった", "3-2で勝った！", "郵便番号123-4567",
    "10時30分に駅前集合", "スコアは12345678901点", "電卓で1234567890を計算", "1,250 points in 3 minutes",
    "version 1.2.3 released", "I paid 0.5 dollars", "room 0312 is free", "午後3時から部活",
    "今日は二時に三人でご飯", "零時に寝る", "いちにさんしごろく数えて", "at the park at noon",
    "I will be there at 5", "e.g. this one", "Mr. Tanaka is here",
    "ゲームの最寄りのセーブポイント", "学校の近くのコンビニ", "先生に会いに行った", "おばあちゃんに会いたいな",
    "ラインマーカーで線を引いた", "カカオ70%のチョコ好き", "ID番号は学生証に書いてある", "写真部の展示会",
    "殺虫剤を買った", "事件のニュースを見た", "推理小説の殺人事件", "爆破シーンがすごい映画",
    "死神のアニメ面白い", "必死に勉強した", "死ぬほど笑った", "花火大会楽しみ", "自然薯掘りに行った",
    "the killer whale at the aquarium", "this song is sick", "that test killed me lol",
    "I could die of embarrassment", "my phone number changed, ask my mom", "bass guitar practice",
    "the essex class", "assistant teacher", "hello world", "the sushi was great",
]
ORDINARY_JA = [
    "今日は{place}に行ってきた！楽しかった〜", "{game}のイベント走ってる人いる？", "明日テストだー勉強しなきゃ",
    "おはよう！今日もがんばろう", "このアニメ最高すぎる", "誰か一緒に{game}やろう", "新しいスマホ買った",
    "部活おわったー。つかれた", "雨やだなー", "{place}のラーメン美味しかった", "猫かわいすぎる",
    "宿題おわらない…", "週末は家族で{place}へ", "{game}のガチャ爆死した", "推しの新曲よすぎ",
    "眠い。おやすみ", "今日の給食カレーだった", "テスト返ってきた。まあまあ", "バイト疲れたー",
    "{place}で雪降ってる！",
]
ORDINARY_EN = [
    "just finished my {game} run, so fun", "good morning everyone!", "the new season is out",
    "anyone playing {game} tonight?", "my cat is so cute", "homework is killing me lol",
    "that movie was so good", "happy birthday to my best friend", "I love this song",
    "weekend trip to {place} was great",
]
PLACES = ["渋谷", "梅田", "札幌", "博多", "横浜", "Kyoto", "Osaka"]
JA_OPEN = ["今日は", "昨日", "さっき", "週末", "放課後", "朝から", "久しぶりに"]
JA_MIDDLE = ["{place}で{food}食べた", "{game}やった", "友達と{place}行った", "部活で走った",
             "テスト勉強した", "家族で{food}作った", "{place}の本屋に寄った", "ずっと寝てた",
             "新しい服買った", "推しのライブ見た", "犬の散歩した", "{game}のレベル上げした"]
JA_CLOSE = ["！", "〜", "。楽しかった", "ｗｗ", "。また行きたい", "。疲れた", "♪", "！最高"]
FOODS = ["ラーメン", "カレー", "たこ焼き", "パンケーキ", "お寿司", "クレープ"]
EN_OPEN = ["today I", "yesterday we", "this weekend I", "after school I", "finally I"]
EN_MIDDLE = ["played {game}", "went to {place}", "baked cookies", "watched a movie",
             "studied for the test", "walked the dog", "cleaned my room"]
EN_CLOSE = ["!", " :)", ", so fun", ", tired now", " lol"]
GAMES = ["ドラクエ", "ポケモン", "モンハン", "スプラ", "Minecraft", "Fortnite"]


Row = tuple[str, str, str, str, str]  # text, label, class, lang, group


def _lang(text: str) -> str:
    return "ja" if any(ord(c) > 0x3000 for c in text) else "en"


def _rows() -> list[Row]:
    """Every row with the group it belongs to (a phrase and its evasions share one group, so
    they land in the same split)."""
    rows: list[Row] = []
    for label, phrases in (("ng", NG_JA), ("review", WATCH_JA)):
        for phrase in phrases:
            for name, fn in JA_EVASIONS.items():
                rows.append((fn(phrase), label, name, "ja", phrase))
    for label, phrases in (("ng", NG_EN), ("review", WATCH_EN)):
        for phrase in phrases:
            for name, fn in EN_EVASIONS.items():
                rows.append((fn(phrase), label, name, "en", phrase))
    rows += [(t, "review", "contact", _lang(t), t) for t in CONTACT]
    rows += [(t, "clean", "risky_clean", _lang(t), t) for t in CLEAN]
    # Realistic posts: each harmful one also as a half-width (old phones) or upper-case copy.
    for label, posts in (("ng", realistic.NG + realistic.NG_EN),
                         ("review", realistic.REVIEW + realistic.REVIEW_EN)):
        for text, klass in posts:
            rows.append((text, label, klass, _lang(text), text))
            variant = _half_width(text) if _lang(text) == "ja" else text.upper()
            rows.append((variant, label, klass, _lang(text), text))
    rows += [(t, "clean", "risky_clean", _lang(t), t) for t in realistic.CLEAN]
    rng = random.Random(5)
    fill: dict[str, Callable[[], str]] = {
        "place": lambda: rng.choice(PLACES), "game": lambda: rng.choice(GAMES),
        "food": lambda: rng.choice(FOODS)}

    def filled(template: str) -> str:
        return template.format(**{k: f() for k, f in fill.items()})

    for template in ORDINARY_JA + ORDINARY_EN:
        lang = "en" if template in ORDINARY_EN else "ja"
        text = filled(template)
        rows.append((text, "clean", "ordinary", lang, text))
    for _ in range(160):
        text = filled(rng.choice(JA_OPEN) + rng.choice(JA_MIDDLE) + rng.choice(JA_CLOSE))
        rows.append((text, "clean", "ordinary", "ja", text))
    for _ in range(50):
        text = filled(f"{rng.choice(EN_OPEN)} {rng.choice(EN_MIDDLE)}{rng.choice(EN_CLOSE)}")
        rows.append((text, "clean", "ordinary", "en", text))
    for _ in range(1100):
        body = rng.choice(realistic.BODIES)
        closer = rng.choice(realistic.CLOSERS)
        if closer == "しね〜" and not body.endswith(("た", "い")):
            closer = "〜"  # …たしね, …いしね are the innocent ones
        text = rng.choice(realistic.OPENERS) + body + closer
        rows.append((text, "clean", "ordinary", "ja", text))
    for _ in range(150):
        text = (rng.choice(realistic.EN_OPENERS) + rng.choice(realistic.EN_BODIES)
                + rng.choice(realistic.EN_CLOSERS))
        rows.append((text, "clean", "ordinary", "en", text))
    return rows


def split_of(group: str) -> str:
    """`dev` or `test`, fixed by the group's text: half the groups each."""
    return "dev" if hashlib.blake2b(group.encode()).digest()[0] % 2 == 0 else "test"


def build() -> list[tuple[str, str, str, str, str]]:
    """The rows: (text, label, class, lang, split), each text once."""
    seen: set[str] = set()
    unique = []
    for text, label, klass, lang, group in _rows():
        if text not in seen:
            seen.add(text)
            unique.append((text, label, klass, lang, split_of(group)))
    return unique


def main() -> None:
    rows = build()
    lines = ["# Labeled evaluation set, built by benchmarks/make_eval_set.py (labels by hand, "
             "per phrase or post).",
             "# label: the verdict a moderator expects (ng, review, clean). split: dev (tune on",
             "# it) or test (report on it); a phrase and its evasions share a split.",
             "text\tlabel\tclass\tlang\tsplit"]
    for text, label, klass, lang, split in rows:
        escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)
        lines.append(f"{escaped}\t{label}\t{klass}\t{lang}\t{split}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
