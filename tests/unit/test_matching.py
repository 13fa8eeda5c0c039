"""Matching semantics: the golden hits table, allow, whole words, per-site entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.filter.judge import FilterCore
from pipeline.filter.policy import verdict_of
from pipeline.text.matcher import Matcher, _entries_by_key
from pipeline.text.wordlists import load_wordlists
from tests.tables import read_table, unescape
from tests.unit.conftest import write_list

HIT_ROWS = read_table("hits.tsv")
PRECISION_ROWS = read_table("precision.tsv")


def _format(core: FilterCore, text: str) -> tuple[str, str]:
    hits = core.hits(text, "site-01")
    rendered = " ; ".join(f"{h.term}[{h.mode}/{h.category}]@{h.start}:{h.end}" for h in hits)
    return verdict_of(hits), rendered


@pytest.mark.parametrize("row", HIT_ROWS, ids=[r[3] for r in HIT_ROWS])
def test_golden_hits(default_core: FilterCore, row: list[str]) -> None:
    text, verdict, expected = unescape(row[0]), row[1], row[2]
    assert _format(default_core, text) == (verdict, expected)


@pytest.mark.parametrize("row", PRECISION_ROWS, ids=[f"{r[3]}: {r[4]}" for r in PRECISION_ROWS])
def test_golden_precision(default_core: FilterCore, row: list[str]) -> None:
    """Innocent sentences stay clean next to each evasion that must be caught; spans are the
    text as written."""
    text, verdict, expected = unescape(row[0]), row[1], unescape(row[2])
    hits = default_core.hits(text, "site-01")
    rendered = " ; ".join(f"{h.term}[{h.mode}/{h.category}]={text[h.start:h.end]}" for h in hits)
    assert (verdict_of(hits), rendered) == (verdict, expected)


def test_hit_spans_are_the_text_as_written(default_core: FilterCore) -> None:
    text = "ねえ　ｼ\u200bﾈ　って言った"
    hits = default_core.hits(text)
    assert [text[h.start:h.end] for h in hits] == ["ｼ\u200bﾈ"]


def _core(tmp_path: Path, body: str, engine: str = "daachorse") -> FilterCore:
    write_list(tmp_path / "lists", "t.tsv", body)
    return FilterCore(Matcher(load_wordlists(tmp_path / "lists"), engine), Config())


def test_allow_drops_only_hits_inside_it(tmp_path: Path, engine: str) -> None:
    core = _core(tmp_path, "しね\tng\tabuse\t\t\nむかしね\tallow\tabuse\t\t\n", engine)
    hits = core.hits("むかしね。しね")
    assert [(h.start, h.end) for h in hits] == [(5, 7)]


def test_latin_terms_match_whole_words_only(tmp_path: Path, engine: str) -> None:
    core = _core(tmp_path, "ass\tng\tabuse\t\t\n", engine)
    assert core.hits("class assessment bass") == []
    assert [h.start for h in core.hits("you ass!")] == [4]
    assert [h.start for h in core.hits("ass")] == [0]


def test_japanese_terms_match_anywhere(tmp_path: Path, engine: str) -> None:
    core = _core(tmp_path, "ばか\tng\tabuse\t\t\n", engine)
    assert [h.start for h in core.hits("おおばかもの")] == [2]


def test_per_site_entries(tmp_path: Path, engine: str) -> None:
    core = _core(tmp_path, "ガチャ\twatch\tspam\tsite-02,site-03\t\n", engine)
    assert core.hits("ガチャ回そう", "site-01") == []
    assert len(core.hits("ガチャ回そう", "site-02")) == 1


def test_same_term_in_two_categories_gives_two_hits(tmp_path: Path, engine: str) -> None:
    core = _core(tmp_path, "やく\twatch\tdrugs\t\t\nやく\twatch\tspam\t\t\n", engine)
    assert sorted(h.category for h in core.hits("やく")) == ["drugs", "spam"]


def test_overlapping_terms_all_reported(tmp_path: Path, engine: str) -> None:
    core = _core(tmp_path, "しね\tng\tabuse\t\t\nしねよ\tng\tabuse\t\t\n", engine)
    assert sorted(h.term for h in core.hits("しねよ")) == ["しね", "しねよ"]


def test_empty_wordlist_matches_nothing(tmp_path: Path, engine: str) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "t.tsv").write_text("term\tmode\tcategory\n")
    core = FilterCore(Matcher(load_wordlists(tmp_path / "lists"), engine), Config())
    assert [h.term for h in core.hits("しね 090-1234-5678")] == ["phone"]


def test_a_term_needs_its_repeated_letters(tmp_path: Path, engine: str) -> None:
    core = _core(tmp_path, "butt\twatch\tabuse\t\t\n", engine)
    assert core.hits("but why") == []
    assert [h.term for h in core.hits("nice buttt")] == ["butt"]


def test_every_list_entry_catches_its_own_plain_form(default_core: FilterCore) -> None:
    for entry in default_core.matcher.wordlist.entries:
        hits = default_core.hits(f"{entry.term} ", "site-01")
        if entry.mode == "allow":
            continue
        assert entry.term in {h.term for h in hits}, entry


def test_entries_by_key_groups_shared_keys_in_order() -> None:
    keys = ["b", "a", "b", "c", "a", "b"]
    assert list(_entries_by_key(keys).items()) == [
        ("b", (0, 2, 5)), ("a", (1, 4)), ("c", (3,))]
    assert _entries_by_key(["x", "y"]) == {"x": (0,), "y": (1,)}
    assert _entries_by_key([]) == {}
