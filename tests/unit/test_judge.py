"""The filter core's entry points agree: per-site entries and rules, rules made of patterns
alone, the configured detectors and the list version hold for batches, for texts judged on
their own (a text holding the batch separator), for the scan, for posts and for reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Config, WordlistsConfig
from pipeline.contract.messages import Hit, Post, Report
from pipeline.filter.judge import FilterCore
from pipeline.text.matcher import Matcher
from pipeline.text.normalize import SENTINEL
from pipeline.text.wordlists import load_wordlists

NOW = "2026-11-23T00:00:00.000Z"
GACHA = Hit("ガチャ", "watch", "spam", 0, 3)
HOBETSU = Hit("ホ別 & {price_short}", "ng", "sexual", 0, 3)
MINOR = "{grade}|{age} & {price}"


def _core(tmp_path: Path, engine: str, config: Config | None = None) -> FilterCore:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "t.tsv").write_text("term\tmode\tcategory\tsites\tpriority\n"
                                 "ガチャ\twatch\tspam\tsite-02\t\n", encoding="utf-8")
    (lists / "r.tsv").write_text("term\tmode\tcategory\tsites\tpriority\tnear\twithin\n"
                                 "{grade}|{age}\tng\tsexual\t\t\t{price}\t15\n"
                                 "ホ別\tng\tsexual\tsite-02\t\t{price_short}\t4\n",
                                 encoding="utf-8")
    return FilterCore(Matcher(load_wordlists(lists), engine), config or Config())


def _hits_both_ways(core: FilterCore, text: str, site: str) -> list[Hit]:
    """The hits of a text in a batch, checked equal to those of the text judged alone."""
    [batched] = core.hits_batch([text], [site])
    alone = core.hits(text + SENTINEL, site)  # the separator sends a text down the slow path
    assert alone == batched
    return batched


@pytest.mark.parametrize(("text", "site", "expected"), [
    ("ガチャ回そう", "site-02", [GACHA]),
    ("ガチャ回そう", "site-01", []),         # the entry is for site-02 only
    ("ホ別2で", "site-02", [HOBETSU]),
    ("ホ別2で", "site-01", []),             # so is the rule
    ("JK2で2万", "site-01", [Hit(MINOR, "ng", "sexual", 0, 6)]),  # patterns alone, no term
    ("中2" + "あ" * 15 + "2万", "site-01", [Hit(MINOR, "ng", "sexual", 0, 19)]),  # within 15
    ("中2" + "あ" * 16 + "2万", "site-01", []),
    ("JK2です", "site-01", []),             # one pattern is not the rule
    ("JKで諭吉", "site-01", [Hit(MINOR, "ng", "sexual", 0, 5)]),  # no digit, no trigger
    ("中学生で苺", "site-01", [Hit(MINOR, "ng", "sexual", 0, 5)]),
])
def test_sites_and_pattern_rules(tmp_path: Path, engine: str, text: str, site: str,
                                 expected: list[Hit]) -> None:
    assert _hits_both_ways(_core(tmp_path, engine), text, site) == expected


def test_rules_of_patterns_alone_hit_the_right_texts_of_a_batch(tmp_path: Path,
                                                                engine: str) -> None:
    core = _core(tmp_path, engine)
    texts = ["JKです", "諭吉ください", "JKで諭吉", "おはよう", "高1", "中学生で苺", "苺"]
    hits = core.hits_batch(texts, ["site-01"] * len(texts))
    assert hits == [[], [], [Hit(MINOR, "ng", "sexual", 0, 5)], [], [],
                    [Hit(MINOR, "ng", "sexual", 0, 5)], []]


def test_scan_and_posts_are_judged_for_their_own_site(tmp_path: Path, engine: str) -> None:
    core = _core(tmp_path, engine)
    on_02 = Post("p1", "site-02", "u1", "ガチャ回そう", "2026-11-22T10:00:00Z")
    on_01 = Post("p2", "site-01", "u1", "ガチャ回そう", "2026-11-22T10:00:00Z")
    assert core.scan(on_02) == ("review", [GACHA])
    assert core.scan(on_01) == ("clean", [])
    outcome = core.process_post(on_02, NOW)
    assert (outcome.verdict, outcome.hits) == ("review", [GACHA])
    assert outcome.review is not None
    assert outcome.review.wordlist_version == core.matcher.wordlist.version
    assert core.process_post(on_01, NOW).verdict == "clean"


def test_reports_are_judged_for_their_own_site(tmp_path: Path, engine: str) -> None:
    core = _core(tmp_path, engine)
    assert core.version == core.matcher.wordlist.version != ""

    def report(site: str, post_text: str | None) -> Report:
        return Report("r1", site, "p1", "reporter", "violating_post", "2026-11-22T10:00:00Z",
                      post_text=post_text, post_user_id="u1")

    item = core.process_report(report("site-02", "ガチャ回そう"), None)
    assert (item.hits, item.priority) == ([GACHA], 60)
    assert item.wordlist_version == core.matcher.wordlist.version
    assert core.process_report(report("site-01", "ガチャ回そう"), None).hits == []
    assert core.process_report(report("site-02", None), None).hits == []


@pytest.mark.parametrize(("detectors", "expected"), [
    (["phone"], [Hit("phone", "watch", "contact", 3, 16)]),
    ([], []),  # detectors turned off in the configuration stay off on every path
    (["email"], []),
])
def test_only_the_configured_detectors_run(tmp_path: Path, engine: str, detectors: list[str],
                                           expected: list[Hit]) -> None:
    config = Config(wordlists=WordlistsConfig(detectors=detectors))  # type: ignore[arg-type]
    assert _hits_both_ways(_core(tmp_path, engine, config), "電話 090-1234-5678",
                           "site-01") == expected


def test_a_list_without_rules_of_patterns_alone(tmp_path: Path, engine: str) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "t.tsv").write_text("term\tmode\tcategory\nしね\tng\tabuse\n", encoding="utf-8")
    core = FilterCore(Matcher(load_wordlists(lists), engine), Config())
    assert _hits_both_ways(core, "しね", "site-01") == [Hit("しね", "ng", "abuse", 0, 2)]
    assert _hits_both_ways(core, "電話 090-1234-5678", "site-01") == [
        Hit("phone", "watch", "contact", 3, 16)]
    assert _hits_both_ways(core, "JK2で2万", "site-01") == []
