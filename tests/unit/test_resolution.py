"""Hit resolution, differential: the batch path gives exactly the hits of a plain reference.

Resolution (offsets back into the text as written, repeated letters, spacing evidence, rules,
allow entries) takes shortcuts for speed (issue 15): a tracked base view built in C-level
passes, checks skipped when they cannot fail, rules tried only when their first part can
hold. The reference below is the plain per-character, every-check, every-rule way it was
done before; on large seeded streams (most posts hitting or tricky, and a dense list of short
random kana and kanji terms that overlap everywhere) and on hand-picked hard cases, every
hit's term, mode, category, start and end must be the same.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.contract.messages import Hit, decode_post
from pipeline.filter.judge import CONTACT_CATEGORY, FilterCore
from pipeline.text.detectors import detect_contacts
from pipeline.text.evidence import Gap, context_holds, covers, deliberate, separating_gaps
from pipeline.text.matcher import Matcher, RawHit
from pipeline.text.normalize import _BASE_TABLE, Tracked, _prepare, track, views
from pipeline.text.rules import near, pattern_name, pattern_spans
from pipeline.text.wordlists import load_wordlists
from pipeline.tools.sample import generate

ROOT = Path(__file__).resolve().parents[2]

#: Hard cases, each with the shipped lists: spaced, stretched, width and script variants,
#: kaomoji, voiced marks in every form, allow phrases, Latin whole words, hits at the edges,
#: characters that vanish or expand in the base view, rules and their patterns.
HARD = [
    "しね", "お前しね", "し ね", "し・ね", "し　ね！", "しーーね", "しねええええ", "ｼﾈ", "ｼ ﾈ",
    "シ\u200bネ", "死ね死ね死ね", "むかしね", "む か し ね", "た「しね」", "しね(^o^)しね",
    "(笑)しね(笑)", "しw ね", "ころ・す", "こ ろ・す", "こ\u3099ろす", "ﾀﾞﾒ", "ハ゛カ",
    "ハ\u309bカ", "バカ…しね…", "ｷﾓｲ", "きもーい", "きもおおい", "うぜー", "ウザ〜い",
    "fuck", "f u c k", "f.u.c.k", "FUCK this", "fuuuuck", "a, s, s", "class assessment",
    "ass", "sh1t", "$#!+", "kIII you", "ＦＵＣＫ", "ｆｕｃｋ", "send nudes", "kys",
    "LINE 交換", "ライン交換しよ", "ﾗｲﾝ交換", "ID: mimi_123", "090-1234-5678",
    "０８０ー１２３４ー５６７８", "hana1@example.com", "www.example-money.com",
    "パパ活しませんか？", "パ パ 活 募集", "ホ別2", "ホ別苺", "JK2で2万", "中2です。3万で",
    "15歳、1.5万でどう", "援交募集", "割り切り希望", "高額日給、テレグラムで",
    "学校爆破する", "\u200b\u200bしね", "しね\u200b", "🙂しね🙂", "しね\ufe0f", "ｼ\u3099ﾈ",
    "Ⅳしね", "㍻しね", "ﬁしね", "ßしね", "İしね", "",
]


def _reference_track_base(text: str) -> tuple[str, list[int], list[int]]:
    """The tracked base view before voiced marks compose, one character at a time."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, ch in enumerate(_prepare(text)):
        mapped = _BASE_TABLE[ord(ch)]
        if mapped:
            pieces.append(mapped)
            starts.extend([index] * len(mapped))
            ends.extend([index + 1] * len(mapped))
    return "".join(pieces), starts, ends


def _reference_deliberate(text: str, match: Tracked, start: int, end: int, key: str,
                          own_gaps: tuple[int, ...]) -> list[Gap] | None:
    """`evidence.deliberate` with the gaps always scanned (a hit with gaps takes no shortcut
    there: only one without does)."""
    found = separating_gaps(text, match, start, end, key, own_gaps)
    if found is None:
        return None
    if not found[0]:
        return []
    return deliberate(text, match, start, end, key, own_gaps)


def _reference_hits(core: FilterCore, text: str, site: str | None) -> list[Hit]:
    """Every check, every rule, nothing skipped."""
    fast = views(text)
    candidates = core.matcher.candidates(fast.match, site)
    contacts = detect_contacts(fast.base, core._detectors)
    base, match = track(text)
    found: list[RawHit] = []
    allows: list[tuple[int, int, list[Gap]]] = []
    for c in candidates:
        entry = c.entry
        if not all(have >= need for have, need in zip(match.runs[c.start:c.end], entry.runs,
                                                      strict=True)):
            continue
        gaps = _reference_deliberate(text, match, c.start, c.end, entry.normalized, entry.gaps)
        if gaps is None:
            continue
        if entry.context and not context_holds(match.text, c.start, c.end, entry.context):
            continue
        start, end = match.span(c.start, c.end)
        if entry.mode == "allow":
            allows.append((start, end, gaps))
        else:
            found.append(RawHit(entry, start, end))
    hits = [Hit(r.entry.term, r.entry.mode, r.entry.category,  # type: ignore[arg-type]
                r.start, r.end) for r in found if r.entry.mode != "part"]
    rules = core.matcher.wordlist.rules
    names = set().union(*(rule.patterns for rule in rules))
    spans = pattern_spans(base, names)
    parts: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for r in found:
        if r.entry.mode == "part":
            parts.setdefault((r.entry.rule, r.entry.side), []).append((r.start, r.end))
    for index, rule in enumerate(rules):
        if rule.sites is not None and site not in rule.sites:
            continue
        sides = []
        for side, cell in enumerate((rule.left, rule.right)):
            side_spans = list(parts.get((index, side), []))
            for alternative in cell:
                name = pattern_name(alternative)
                if name is not None:
                    side_spans += spans[name]
            sides.append(side_spans)
        span = near(sides[0], sides[1], rule.within) if sides[0] and sides[1] else None
        if span is not None:
            hits.append(Hit(rule.term, rule.mode, rule.category,  # type: ignore[arg-type]
                            *span))
    for name, b_start, b_end in contacts:
        hits.append(Hit(name, "watch", CONTACT_CATEGORY, *base.span(b_start, b_end)))
    hits = [h for h in hits if not any(covers(a, h.start, h.end) for a in allows)]
    return sorted(hits, key=lambda h: (h.start, h.end, h.term))


def _stream(seed: int, n: int, ratio: float = 0.7) -> tuple[list[str], list[str | None]]:
    """`n` generated posts, `ratio` of them written to hit and `ratio` of the clean Japanese
    ones tricky."""
    posts = [decode_post(r.value, max_bytes=1 << 20, max_text_chars=1 << 20)
             for r in generate(n, seed=seed, hit_ratio=ratio, tricky_ratio=ratio,
                               report_ratio=0.0, malformed=False)]
    return [p.text for p in posts], [p.site_id for p in posts]


def _dense_core(tmp_path: Path) -> FilterCore:
    """The shipped lists plus 3,000 random kana and kanji terms of 2 to 4 letters (doubled
    letters allowed): many overlapping candidates in ordinary posts."""
    rng = random.Random(15)
    kana = [chr(c) for c in range(0x3041, 0x3094) if chr(c) not in "ぁぃぅぇぉっゃゅょゎ"]
    kanji = list("日本人大中小上下山川田口目手心気金土木水火月年時分間前後友家話言会社店電車駅"
                 "道今何私子夜朝楽見行来出入思")
    lists = tmp_path / "lists"
    shutil.copytree(ROOT / "wordlists", lists)
    terms = {"".join(rng.choice(kana if i % 2 else kanji) for _ in range(rng.randint(2, 4)))
             for i in range(3000)}
    rows = [f"{term}\t{rng.choice(['ng', 'watch'])}\tsynthetic" for term in sorted(terms)]
    (lists / "dense.tsv").write_text("term\tmode\tcategory\n" + "\n".join(rows) + "\n",
                                     encoding="utf-8")
    return FilterCore(Matcher(load_wordlists(lists)), Config())


def _assert_same(core: FilterCore, texts: list[str], sites: list[str | None]) -> int:
    batched: list[list[Hit]] = []
    for start in range(0, len(texts), 500):
        batched += core.hits_batch(texts[start:start + 500], sites[start:start + 500])
    for text, site, hits in zip(texts, sites, batched, strict=True):
        assert hits == _reference_hits(core, text, site), text
    return sum(map(len, batched))


def test_base_view_maps_match_the_per_character_reference() -> None:
    texts, _ = _stream(7, 3000)
    for text in texts + HARD:
        base, _ = track(text)
        expected = _reference_track_base(text)
        if "\u3099" in expected[0] or "\u309a" in expected[0]:
            continue  # voiced marks composed after this step: compared through the hits
        assert (base.text, base.starts, base.ends) == expected, text


def test_hard_cases_match_the_reference(default_core: FilterCore) -> None:
    texts = HARD + [f"{a}{b}" for a in HARD[:20] for b in HARD[:20]]
    for site in ("site-01", "site-02", None):
        assert _assert_same(default_core, texts, [site] * len(texts)) > len(texts)


@pytest.mark.parametrize("seed", [11, 12])
def test_hit_heavy_streams_match_the_reference(default_core: FilterCore, seed: int) -> None:
    texts, sites = _stream(seed, 4000)
    assert _assert_same(default_core, texts, sites) > 3000


def test_dense_list_matches_the_reference(tmp_path: Path) -> None:
    core = _dense_core(tmp_path)
    texts, sites = _stream(13, 3000)
    clean_texts, clean_sites = _stream(14, 3000, ratio=0.05)
    assert _assert_same(core, texts + clean_texts, sites + clean_sites) > 5000
