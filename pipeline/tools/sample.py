"""A seeded generator of realistic sample streams, for the demo, the tests and benchmarks.

Japanese-heavy, short mobile-style posts, a few percent with hits, some contact details, some
user reports, and a handful of malformed records of every kind the workers must DLQ.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.contract.messages import Post, Report, encoder

_PLACES = ["渋谷", "梅田", "札幌", "博多", "横浜", "名古屋", "仙台", "京都"]
_GAMES = ["ドラクエ", "ポケモン", "モンハン", "スプラ", "原神", "パズドラ"]
# Clean posts that look risky (they contain an NG word's letters or phone-like numbers).
_TRICKY_JA = [
    "むかしね、ここによく来てたんだ",
    "シネマで映画見てきた！泣いた",
    "しねんじょって美味しいの？",
    "{place}のライブ、チケット3,500円だった",
    "2024-05-01の大会、3-2で勝ったよ",
]
_CLEAN_JA = [
    "今日は{place}に行ってきた！楽しかった〜",
    "{game}のイベント走ってる人いる？",
    "明日テストだー勉強しなきゃ",
    "おはよう！今日もがんばろう",
    "このアニメ最高すぎる。来週が待ちきれない",
    "誰か一緒に{game}でパーティ組もう",
    "ｷｮｳﾊ ｱﾒ ﾀﾞﾈ",
    "新しいスマホ買った♪ 写真きれい",
    "部活おわったー。つかれた",
    "{place}駅で友達と待ち合わせ、{game}の話で盛り上がった",
    "昨日の夜ごはんはカレーでした。おいしかった！",
    "宿題多すぎて終わらない…誰か助けて〜",
    "推しの新曲、何回聴いてもいい",
    "週末は家族で{place}に行く予定",
]
_CLEAN_EN = [
    "just finished my {game} run, so fun",
    "anyone else going to the {place} meetup for the game club?",
    "our class had an assessment today",
    "good morning everyone!",
    "the new season is out, no spoilers please",
    "I scored 1,250 points in 3 minutes",
]
_HIT_JA = [
    "お前ほんとに しね",
    "ｼﾈよ雑魚",
    "死ね死ね死ね",
    "殺すぞまじで",
    "もう死にたい…誰か助けて",
    "リスカしちゃった",
    "パパ活しませんか？お小遣いあげる",
    "援交募集",
    "会いませんか？{place}で",
    "ライン交換しよ！",
    "LINE ID: mimi_{n}",
    "電話して 090-{a}-{b}",
    "０８０ー{a}ー{b} に連絡ちょうだい",
    "メールは hana{n}@example.com だよ",
    "簡単に稼げる方法 www.example-money.com",
    "きもいんだけど",
    "大麻ある？",
]
_HIT_EN = [
    "shut up you idiot",
    "FUCK this game",
    "kys loser",
    "send nudes",
    "where do you live? let's meet up",
    "add me on snapchat: cutie{n}",
    "free money click here http://spam.example.net/x",
    "I want to die",
    "i will kill you",
]
#: NG posts by category, for the repeat offenders who walk the enforcer's ladder.
_OFFENCES = {
    "abuse": ["お前ほんとに しね", "ｼﾈよ雑魚", "FUCK this game"],
    "crime": ["殺すぞまじで", "i will kill you"],
    "sexual": ["援交募集", "パパ活しませんか？お小遣いあげる"],
}
#: What each repeat offender posts, in order; offenders take these profiles in turn. With the
#: default ladder they reach: warn, suspend-1d / warn, suspend-1d, suspend-7d / warn,
#: suspend-7d, expel / warn, suspend-1d, suspend-7d.
OFFENDER_PROFILES = (
    ("abuse", "abuse", "abuse", "abuse"),
    ("abuse", "abuse", "crime", "crime"),
    ("crime", "crime", "crime"),
    ("sexual", "abuse", "sexual", "crime"),
)
_REPORT_CATEGORIES = ["violating_post", "operation", "penalty", "other", "advertising"]


@dataclass(frozen=True)
class SampleRecord:
    """One record to produce, with what it is meant to exercise."""

    topic_kind: str  # "posts" or "reports"
    key: bytes
    value: bytes
    kind: str  # clean, hit, report, or the DLQ reason it should get


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        place=rng.choice(_PLACES), game=rng.choice(_GAMES), n=rng.randrange(100, 999),
        a=rng.randrange(1000, 9999), b=rng.randrange(1000, 9999),
    )


def malformed_records(site_id: str = "site-01") -> list[SampleRecord]:
    """One record of every malformed kind, labelled with the DLQ reason it must get."""
    key = f"{site_id}:baduser".encode()
    base = (b'{"post_id":"bad-%s","site_id":"' + site_id.encode() +
            b'","user_id":"baduser","created_at":"2026-11-23T00:00:00Z",')
    return [
        SampleRecord("posts", key, b'{"post_id": "bad-json", "text": ', "invalid_json"),
        SampleRecord("posts", key, base % b"type" + b'"text": 12345}', "schema"),
        SampleRecord("posts", key, base % b"utf8" + b'"text": "\xff\xfe broken"}',
                     "invalid_utf8"),
        SampleRecord("posts", key, b'{"post_id":"bad-missing","site_id":"' + site_id.encode()
                     + b'","text":"no user","created_at":"2026-11-23T00:00:00Z"}', "schema"),
        SampleRecord("posts", key, base % b"empty" + b'"text": "   "}', "empty_text"),
        SampleRecord("posts", key, b'{"post_id":"bad-time","site_id":"' + site_id.encode()
                     + b'","user_id":"baduser","text":"hi","created_at":"yesterday"}', "schema"),
        SampleRecord("posts", key, base % b"huge" + b'"text": "' + "あ".encode() * 20_000
                     + b'"}', "oversized"),
    ]


def generate(
    n_posts: int, *, seed: int = 20261123, hit_ratio: float = 0.06, report_ratio: float = 0.02,
    english_ratio: float = 0.2, sites: int = 3, users: int = 500, malformed: bool = True,
    tricky_ratio: float = 0.25, offenders: int = 0,
) -> list[SampleRecord]:
    """A reproducible stream of posts, reports and (optionally) malformed records.

    `tricky_ratio` is the share of clean Japanese posts that look risky (allow phrases,
    phone-like numbers); the demo keeps it high to show them, benchmarks use a realistic few
    percent. `offenders` adds that many repeat offenders (users `x0000`, …) whose NG posts,
    spread through the stream, walk the enforcer's ladder (`OFFENDER_PROFILES`); the rest of
    the stream is the same with or without them.
    """
    rng = random.Random(seed)
    records: list[SampleRecord] = []
    for i in range(n_posts):
        site_id = f"site-{rng.randrange(sites) + 1:02d}"
        user_id = f"u{rng.randrange(users):05d}"
        english = rng.random() < english_ratio
        hit = rng.random() < hit_ratio
        if hit:
            pool = _HIT_EN if english else _HIT_JA
        elif english:
            pool = _CLEAN_EN
        else:
            pool = _TRICKY_JA if rng.random() < tricky_ratio else _CLEAN_JA
        text = _fill(rng.choice(pool), rng)
        post = Post(
            post_id=f"p{i:07d}", site_id=site_id, user_id=user_id, text=text,
            created_at=f"2026-11-23T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            lang="en" if english else "ja",
        )
        key = f"{site_id}:{user_id}".encode()
        records.append(SampleRecord("posts", key, encoder.encode(post), "hit" if hit else "clean"))
        if rng.random() < report_ratio:
            report = Report(
                report_id=f"r{i:07d}", site_id=site_id, post_id=post.post_id,
                reporter_id=f"u{rng.randrange(users):05d}",
                category=rng.choice(_REPORT_CATEGORIES),  # type: ignore[arg-type]
                created_at=post.created_at, text="この投稿を確認してください",
                post_text=text, post_user_id=user_id,
            )
            records.append(SampleRecord("reports", key, encoder.encode(report), "report"))
    if offenders:
        _add_offenders(records, offenders, sites, random.Random(seed + 1))
    if malformed:
        bad = malformed_records()
        for index, record in enumerate(bad):
            records.insert((index + 1) * len(records) // (len(bad) + 1), record)
    return records


def _add_offenders(records: list[SampleRecord], offenders: int, sites: int,
                   rng: random.Random) -> None:
    """Insert the repeat offenders' NG posts at spread positions, each user's in order."""
    posts: list[SampleRecord] = []
    for i in range(offenders):
        site_id, user_id = f"site-{i % sites + 1:02d}", f"x{i:04d}"
        for k, category in enumerate(OFFENDER_PROFILES[i % len(OFFENDER_PROFILES)]):
            post = Post(post_id=f"x{i:04d}-{k}", site_id=site_id, user_id=user_id,
                        text=rng.choice(_OFFENCES[category]),
                        created_at=f"2026-11-23T12:{k:02d}:{i % 60:02d}Z")
            posts.append(SampleRecord("posts", f"{site_id}:{user_id}".encode(),
                                      encoder.encode(post), "hit"))
    step = max(1, len(records) // (len(posts) + 1))
    for n, record in enumerate(posts):
        records.insert(min(len(records), (n + 1) * step + n), record)
