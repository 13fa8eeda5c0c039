"""Wordlist loading: the shipped lists, and every bad shape names file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import WordlistError
from pipeline.text import wordlists
from pipeline.text.wordlists import WordlistLoader, load_wordlists
from tests.unit.conftest import ROOT, write_list


def test_shipped_lists_load_cleanly() -> None:
    wordlist = load_wordlists(ROOT / "wordlists")
    assert wordlist.warnings == ()
    assert wordlist.count("ng") > 20
    assert wordlist.count("watch") > 20
    assert wordlist.count("allow") >= 3
    categories = {e.category for e in wordlist.entries}
    assert {"abuse", "sexual", "meeting", "contact", "drugs", "self_harm", "crime",
            "spam"} <= categories


def test_version_follows_content(tmp_path: Path) -> None:
    path = write_list(tmp_path, "a.tsv", "しね\tng\tabuse\t\t\n")
    first = load_wordlists(tmp_path).version
    assert load_wordlists(tmp_path).version == first
    path.write_text(path.read_text() + "ばか\twatch\tabuse\t\t\n")
    assert load_wordlists(tmp_path).version != first


def test_comments_blank_lines_and_bom(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_bytes(
        "\ufeff# comment\n\nterm\tmode\tcategory\n# another\nしね\tng\tabuse\n".encode()
    )
    wordlist = load_wordlists(tmp_path)
    assert [(e.term, e.line) for e in wordlist.entries] == [("しね", 5)]


@pytest.mark.parametrize(("body", "line", "reason"), [
    ("しね\tng\tabuse\t\t\n\tng\tabuse\t\t\n", 3, "term is empty"),
    ("しね\tbad\tabuse\t\t\n", 2, "mode 'bad' is not one of ng, watch, allow"),
    ("しね\tng\tAbuse!\t\t\n", 2, "category 'Abuse!' must be lower-case"),
    ("しね\tng\tabuse\t\tlots\n", 2, "priority 'lots' is not an integer"),
    ("しね\tng\tabuse\t\t500\n", 2, "priority 500 is outside 0-100"),
    ("しね\tng\tabuse\tsite 1\t\n", 2, "site id 'site 1' is not a valid site id"),
    ("しね\tng\tabuse\t\t\textra\n", 2, "6 columns but the header has 5"),
    ("しね\tng\n", 2, "2 column(s), but the header puts category in column 3; separate"),
    ("しね ng abuse\n", 2, "1 column(s), but the header puts mode, category in column 3"),
    ("\u200b\tng\tabuse\t\t\n", 2, "is empty after normalization"),
])
def test_bad_line_names_file_line_reason(
    tmp_path: Path, body: str, line: int, reason: str
) -> None:
    write_list(tmp_path, "bad.tsv", body)
    with pytest.raises(WordlistError) as info:
        load_wordlists(tmp_path)
    assert info.value.line == line
    assert info.value.path.endswith("bad.tsv")
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{info.value.path}:{line}: ")


@pytest.mark.parametrize(("context", "reason"), [
    ("near=x", "context 'near=x' is not word, before=, before!=, after= or after!="),
    ("before=", "context 'before=' names no characters"),
    ("after!=\u200b", "does not normalize to one letter"),
])
def test_bad_context_names_file_line_reason(tmp_path: Path, context: str, reason: str) -> None:
    (tmp_path / "a.tsv").write_text(f"term\tmode\tcategory\tcontext\nしね\tng\tabuse\t\n"
                                    f"たしね\tallow\tabuse\t{context}\n", encoding="utf-8")
    with pytest.raises(WordlistError) as info:
        load_wordlists(tmp_path)
    assert (info.value.line, reason in info.value.reason) == (3, True), info.value.reason


def test_context_is_read_in_match_view_form(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_text("term\tmode\tcategory\tcontext\n"
                                    "たしね\tallow\tabuse\tbefore!=ンﾀ after=_ word\n",
                                    encoding="utf-8")
    [entry] = load_wordlists(tmp_path).entries
    assert entry.context == (("!before", "んた"), ("after", " "), ("word", ""))


def test_first_bad_line_is_reported_even_when_an_earlier_term_normalizes_to_nothing(
    tmp_path: Path,
) -> None:
    write_list(tmp_path, "bad.tsv",
               "しね\tng\tabuse\t\t\n\u200b\tng\tabuse\t\t\nx\tbad\tabuse\t\t\n")
    with pytest.raises(WordlistError) as info:
        load_wordlists(tmp_path)
    assert (info.value.line, "is empty after normalization" in info.value.reason) == (3, True)


def test_a_reload_from_cached_term_forms_equals_a_fresh_load(tmp_path: Path) -> None:
    for path in (ROOT / "wordlists").glob("*.tsv"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    loader = WordlistLoader()
    fresh = load_wordlists(tmp_path, loader)
    cached = load_wordlists(tmp_path, loader)
    assert cached.entries == fresh.entries
    assert cached.version == fresh.version


def test_a_reload_parses_changed_lines_and_header_layouts_again(tmp_path: Path) -> None:
    path = write_list(tmp_path, "a.tsv", "しね\tng\tabuse\t\t\nばか\twatch\tabuse\t\t\n")
    loader = WordlistLoader()
    load_wordlists(tmp_path, loader)
    path.write_text("term\tmode\tcategory\tsites\tpriority\n"
                    "# a new first line\nしね\twatch\tabuse\t\t70\nばか\twatch\tabuse\t\t\n")
    entries = load_wordlists(tmp_path, loader).entries
    assert [(e.term, e.mode, e.priority, e.line) for e in entries] == [
        ("しね", "watch", 70, 3), ("ばか", "watch", None, 4)]
    # The same line under another header means other columns: it is parsed again.
    path.write_text("term\tmode\tcategory\tpriority\tsites\nしね\twatch\tabuse\t\t70\n")
    [entry] = load_wordlists(tmp_path, loader).entries
    assert (entry.priority, entry.sites) == (None, frozenset({"70"}))
    path.write_text("term\tmode\tcategory\tsites\tpriority\nばか\twatch\tabuse\t\t\n"
                    "しね\tbad\tabuse\t\t\n")
    with pytest.raises(WordlistError, match="mode 'bad'"):
        load_wordlists(tmp_path, loader)


def test_each_loader_remembers_its_own_last_load(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A dry run loads the candidate lists beside the active ones: neither evicts the
    other's lines, so the active set's reload still parses nothing it already knows."""
    write_list(tmp_path / "active", "a.tsv", "しね\tng\tabuse\t\t\nばか\twatch\tabuse\t\t\n")
    write_list(tmp_path / "candidate", "a.tsv", "あほ\tng\tabuse\t\t\n")
    parsed: list[int] = []
    real = wordlists._parse_row
    def counting(path: str, lineno: int, line: str, columns: object) -> object:
        parsed.append(lineno)
        return real(path, lineno, line, columns)  # type: ignore[arg-type]

    monkeypatch.setattr(wordlists, "_parse_row", counting)
    active, candidate = WordlistLoader(), WordlistLoader()
    load_wordlists(tmp_path / "active", active)
    assert parsed == [2, 3]
    load_wordlists(tmp_path / "candidate", candidate)
    assert parsed == [2, 3, 2]
    load_wordlists(tmp_path / "active", active)  # nothing new to parse
    assert parsed == [2, 3, 2]
    active.forget()
    load_wordlists(tmp_path / "active", active)
    assert parsed == [2, 3, 2, 2, 3]
    load_wordlists(tmp_path / "active")  # no loader: no memory
    assert parsed == [2, 3, 2, 2, 3, 2, 3]


def test_a_cached_reload_skips_comments_and_blank_lines_between_known_lines(
    tmp_path: Path,
) -> None:
    path = write_list(tmp_path, "a.tsv", "しね\tng\tabuse\t\t\nばか\twatch\tabuse\t\t\n")
    loader = WordlistLoader()
    load_wordlists(tmp_path, loader)
    path.write_text("term\tmode\tcategory\tsites\tpriority\nばか\twatch\tabuse\t\t\n\n"
                    "  # moved\n   \nしね\tng\tabuse\t\t\nあほ\tng\tabuse\t\t\n")
    entries = load_wordlists(tmp_path, loader).entries
    assert [(e.term, e.line) for e in entries] == [("ばか", 2), ("しね", 6), ("あほ", 7)]


@pytest.mark.parametrize(("content", "reason"), [
    (b"term\tmode\n", "lacks required column(s) category"),
    (b"term\tmode\tcategory\tterm\n", "names column 'term' twice"),
    (b"# only a comment\n", "no header row"),
    (b"term\tmode\tcategory\n\xff\n", "not valid UTF-8"),
])
def test_bad_file_shapes(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "bad.tsv").write_bytes(content)
    with pytest.raises(WordlistError, match=r"bad\.tsv") as info:
        load_wordlists(tmp_path)
    assert reason in info.value.reason


def test_missing_directory_and_no_files(tmp_path: Path) -> None:
    with pytest.raises(WordlistError, match="does not exist"):
        load_wordlists(tmp_path / "nope")
    with pytest.raises(WordlistError, match=r"no \*\.tsv"):
        load_wordlists(tmp_path)


def test_duplicates_are_warned_with_both_places(tmp_path: Path) -> None:
    write_list(tmp_path, "a.tsv", "しね\tng\tabuse\t\t\nシネ\tng\tabuse\t\t\n")
    wordlist = load_wordlists(tmp_path)
    assert len(wordlist.warnings) == 1
    assert "a.tsv:3: duplicate of" in wordlist.warnings[0]
    assert "a.tsv:2" in wordlist.warnings[0]


def test_entries_alike_but_of_another_mode_or_category_are_warned(tmp_path: Path) -> None:
    write_list(tmp_path, "a.tsv", "しね\tng\tabuse\t\t\nシネ\twatch\tabuse\t\t\n"
                                  "ｼﾈ\tng\tcrime\t\t\nしね\tng\tabuse\tsite-1\t\n"
                                  "しね\tallow\tabuse\tsite-2\t\n")
    warnings = [w.replace(f"{tmp_path}/", "") for w in load_wordlists(tmp_path).warnings]
    assert len(warnings) == 2
    assert warnings[0].startswith("a.tsv:3: 'シネ' (watch, abuse) normalizes like a.tsv:2 'しね'")
    assert warnings[1].startswith("a.tsv:4: 'ｼﾈ' (ng, crime) normalizes like a.tsv:2 'しね'")


def test_latin_flag() -> None:
    entries = {e.term: e for e in load_wordlists(ROOT / "wordlists").entries}
    assert entries["fuck"].latin
    assert entries["kill yourself"].latin
    assert not entries["しね"].latin
    assert not entries["LINE交換"].latin


def test_entries_that_can_never_fire_are_warned(tmp_path: Path) -> None:
    write_list(tmp_path, "a.tsv", "しね\tng\tabuse\t\t\nシネ\tallow\tabuse\t\t\n"
                                  "ばか\tng\tabuse\tsite-1\t\nばか\tallow\tabuse\tsite-2\t\n"
                                  "死\twatch\tself_harm\t\t\n")
    warnings = load_wordlists(tmp_path).warnings
    assert any("a.tsv:2: can never fire: allow entry" in w and "a.tsv:3" in w for w in warnings)
    assert not any("a.tsv:4: can never fire" in w for w in warnings)  # allow is for another site
    assert any("a.tsv:6: '死' is one character" in w for w in warnings)


@pytest.mark.parametrize(("line", "reason"), [
    ("ホ別\tng\tsexual\t{price}\t\n", "needs a within"),
    ("ホ別\tng\tsexual\t{price}\tten\n", "within 'ten' is not an integer"),
    ("ホ別\tng\tsexual\t{price}\t500\n", "within 500 is outside 0-200"),
    ("ホ別\tallow\tsexual\t{price}\t5\n", "a rule's mode must be ng or watch"),
    ("ホ別\tng\tsexual\t{cost}\t5\n", "'{cost}' is not a known pattern"),
    ("ホ別||ホ込\tng\tsexual\t{price}\t5\n", "has an empty alternative"),
    ("\u200b\tng\tsexual\t{price}\t5\n", "is empty after normalization"),
])
def test_bad_rule_names_file_line_reason(tmp_path: Path, line: str, reason: str) -> None:
    (tmp_path / "r.tsv").write_text("term\tmode\tcategory\tnear\twithin\nしね\tng\tabuse\n"
                                    + line, encoding="utf-8")
    with pytest.raises(WordlistError) as info:
        load_wordlists(tmp_path)
    assert (info.value.line, reason in info.value.reason) == (3, True), info.value.reason


def test_rules_load_with_their_parts(tmp_path: Path) -> None:
    (tmp_path / "r.tsv").write_text("term\tmode\tcategory\tnear\twithin\n"
                                    "ホ別|ホ込\tng\tsexual\t{price_short}|諭吉\t3\n",
                                    encoding="utf-8")
    wordlist = load_wordlists(tmp_path)
    [rule] = wordlist.rules
    assert (rule.term, rule.left, rule.right, rule.within, rule.line) == (
        "ホ別|ホ込 & {price_short}|諭吉", ("ホ別", "ホ込"), ("{price_short}", "諭吉"), 3, 2)
    assert [(p.term, p.normalized, p.mode, p.rule, p.side) for p in wordlist.parts] == [
        ("ホ別", "ほ別", "part", 0, 0), ("ホ込", "ほ込", "part", 0, 0),
        ("諭吉", "諭吉", "part", 0, 1)]
    assert wordlist.entries == ()
