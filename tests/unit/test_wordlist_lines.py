"""Wordlist lines, exactly: every error an operator can see, word for word with its file and
line; every field of the entries, rules and rule parts a line becomes; the list version; the
warnings. Expectations are written out by hand."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipeline.errors import WordlistError
from pipeline.text.matcher import Matcher
from pipeline.text.rules import Rule
from pipeline.text.wordlists import Entry, is_latin_term, load_wordlists, parse_file

HEADER = "term\tmode\tcategory\tsites\tpriority\n"
RULES = "term\tmode\tcategory\tsites\tpriority\tnear\twithin\n"


def _error(directory: Path, content: str | bytes) -> WordlistError:
    path = directory / "bad.tsv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(WordlistError) as info:
        load_wordlists(directory)
    return info.value


@pytest.mark.parametrize(("content", "line", "reason"), [
    # The header row.
    ("term\t\tmode\tcategory\n", 1, "header column 2 is empty"),
    ("# a comment\n\nterm\tmode\tcategory\tMode\n", 3, "header names column 'mode' twice"),
    ("term\n", 1, "header lacks required column(s) mode, category; a header row such as "
                  "'term<TAB>mode<TAB>category' must come first"),
    (b"term\tmode\tcategory\n\xe3\x81\x97\xe3\x81\xad\tng\tabuse\n\xff\n", 3,
     "not valid UTF-8 (byte 35)"),
    # Data lines.
    ("mode\tcategory\tterm\nng\tabuse\n", 2,
     "2 column(s), but the header puts term in column 3; separate the columns with tabs"),
    ("term\tcategory\tmode\nしね\tabuse\n", 2,
     "2 column(s), but the header puts mode in column 3; separate the columns with tabs"),
    (HEADER + "しね\tng\tabuse\t\t\n \tng\tabuse\t\t\n", 3, "term is empty"),
    (HEADER + "しね\tng\tabuse\t\t-1\n", 2, "priority -1 is outside 0-100"),
    (HEADER + "しね\tng\tabuse\t\t101\n", 2, "priority 101 is outside 0-100"),
    ("term\tmode\tcategory\tcontext\nたしね\tallow\tabuse\tnear=x\n", 2,
     "context 'near=x' is not word, before=, before!=, after= or after!="),
    (HEADER + "しね\tng\tabuse\t\t\n\u200b\tng\tabuse\t\t\nx\tbad\tabuse\t\t\n", 3,
     "term '\\u200b' is empty after normalization"),  # shown escaped
    # Rule lines.
    (RULES + "ホ別\tallow\tsexual\t\t\t{price}\t5\n", 2,
     "a rule's mode must be ng or watch, not allow"),
    (RULES + "ホ別\tng\tSexual\t\t\t{price}\t5\n", 2,
     "category 'Sexual' must be lower-case letters, digits and _ (1-40 chars)"),
    ("term\tmode\tcategory\tcontext\tnear\twithin\nホ別\tng\tsexual\tword\t{price}\t5\n", 2,
     "a rule takes no context (its near cell is one)"),
    (RULES + "ホ別\tng\tsexual\t\t\t{price}\n", 2,
     "a rule (near) needs a within: the most characters between its two parts"),
    ("term\tmode\tcategory\tnear\nホ別\tng\tsexual\t{price}\n", 2,
     "a rule (near) needs a within: the most characters between its two parts"),
    (RULES + "ホ別\tng\tsexual\t\t\t{price}\tten\n", 2, "within 'ten' is not an integer"),
    (RULES + "ホ別\tng\tsexual\t\t\t{price}\t201\n", 2, "within 201 is outside 0-200"),
    (RULES + "ホ別\tng\tsexual\t\t\t{price}\t-1\n", 2, "within -1 is outside 0-200"),
    (RULES + "ホ別\tng\tsexual\t\t\t{cost}\t5\n", 2,
     "rule part '{cost}' is not a known pattern ({price}, {offer}, {price_short}, {age}, {grade})"),
    (RULES + "しね\tng\tabuse\t\t\t\t\nホ別|\u200b\tng\tsexual\t\t\t{price}\t5\n", 3,
     "rule part '\\u200b' is empty after normalization"),
])
def test_every_error_names_file_line_and_reason_exactly(
    tmp_path: Path, content: str | bytes, line: int, reason: str,
) -> None:
    error = _error(tmp_path, content)
    path = str(tmp_path / "bad.tsv")
    assert (error.path, error.line, error.reason) == (path, line, reason)
    assert str(error) == f"{path}:{line}: {reason}"


def test_whole_file_errors_name_no_line(tmp_path: Path) -> None:
    for content in ("", "# only a comment\n\n"):
        error = _error(tmp_path, content)
        assert str(error) == (f"{tmp_path / 'bad.tsv'}: no header row (file is empty or only "
                              "comments)")
        assert error.line == 0
    with pytest.raises(WordlistError) as info:
        parse_file(tmp_path / "gone.tsv")
    assert str(info.value) == f"{tmp_path / 'gone.tsv'}: cannot read: No such file or directory"
    assert info.value.line == 0


def test_directory_errors_name_the_directory(tmp_path: Path) -> None:
    with pytest.raises(WordlistError) as info:
        load_wordlists(tmp_path / "nope")
    assert str(info.value) == f"{tmp_path / 'nope'}: wordlist directory does not exist"
    assert (info.value.path, info.value.line) == (str(tmp_path / "nope"), 0)
    with pytest.raises(WordlistError) as info:
        load_wordlists(tmp_path)
    assert str(info.value) == f"{tmp_path}: no *.tsv wordlist files found"
    assert (info.value.path, info.value.line) == (str(tmp_path), 0)


def test_priority_and_within_take_both_ends_of_their_range(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_text(RULES + "しね\tng\tabuse\t\t0\t\t\n"
                                    "ばか\twatch\tabuse\t\t100\t\t\n"
                                    "ホ別\tng\tsexual\t\t\t{price}\t0\n"
                                    "ホ込\tng\tsexual\t\t\t{price}\t200\n", encoding="utf-8")
    wordlist = load_wordlists(tmp_path)
    assert [e.priority for e in wordlist.entries] == [0, 100]
    assert [r.within for r in wordlist.rules] == [0, 200]


def test_a_line_becomes_exactly_this_entry(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    path.write_text(HEADER + "しね\tng\tabuse\t\t\n"
                    "ＢＵＴＴ\twatch\tabuse\tsite-2, site-1\t0\n"
                    "ぶっ殺す\tng\tcrime\t\t100\n"
                    "kill yourself\tng\tabuse\t\t\n", encoding="utf-8")
    (tmp_path / "b.tsv").write_text("term\tmode\tcategory\tcontext\n"
                                    "たしね\tallow\tabuse\tword after=_\n", encoding="utf-8")
    p, b = str(path), str(tmp_path / "b.tsv")
    assert load_wordlists(tmp_path).entries == (
        Entry("しね", "しね", (1, 1), (), "ng", "abuse", None, None, False, (), p, 2),
        Entry("ＢＵＴＴ", "but", (1, 1, 2), (), "watch", "abuse",
              frozenset({"site-1", "site-2"}), 0, True, (), p, 3),
        Entry("ぶっ殺す", "ぶ殺す", (1, 1, 1), (0,), "ng", "crime", None, 100, False, (), p, 4),
        Entry("kill yourself", "kil yourself", (1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1), (), "ng",
              "abuse", None, None, True, (), p, 5),
        Entry("たしね", "たしね", (1, 1, 1), (), "allow", "abuse", None, None, False,
              (("word", ""), ("after", " ")), b, 2),
    )


def test_a_rule_line_becomes_exactly_this_rule_and_these_parts(tmp_path: Path) -> None:
    path = tmp_path / "r.tsv"
    # A term with a space next to the rules: only a filled near cell makes a line a rule.
    path.write_text(RULES + "ホ別|Hotel\twatch\tsexual\tsite-1\t70\t{price}|諭吉\t0\n"
                    "kill yourself\tng\tabuse\t\t\t\t\n"
                    "ホ込\tng\tsexual\t\t\t{price_short}\t4\n", encoding="utf-8")
    p = str(path)
    wordlist = load_wordlists(tmp_path)
    site = frozenset({"site-1"})
    assert wordlist.rules == (
        Rule("ホ別|Hotel & {price}|諭吉", ("ホ別", "Hotel"), ("{price}", "諭吉"), 0, "watch",
             "sexual", site, 70, p, 2),
        Rule("ホ込 & {price_short}", ("ホ込",), ("{price_short}",), 4, "ng", "sexual", None,
             None, p, 4),
    )
    assert wordlist.parts == (
        Entry("ホ別", "ほ別", (1, 1), (), "part", "sexual", site, None, False, (), p, 2, 0, 0),
        Entry("Hotel", "hotel", (1, 1, 1, 1, 1), (), "part", "sexual", site, None, True, (), p,
              2, 0, 0),
        Entry("諭吉", "諭吉", (1, 1), (), "part", "sexual", site, None, False, (), p, 2, 0, 1),
        Entry("ホ込", "ほ込", (1, 1), (), "part", "sexual", None, None, False, (), p, 4, 1, 0),
    )
    assert [(e.term, e.line) for e in wordlist.entries] == [("kill yourself", 3)]


def test_the_version_is_the_hash_of_every_file_path_and_content(tmp_path: Path) -> None:
    """The version names the lists in every output; it must only change with the lists:
    SHA-256 over each file's path (relative to the directory), NUL, its bytes, NUL, in file
    order; the first 12 hex digits."""
    a = b"term\tmode\tcategory\n\xe3\x81\x97\xe3\x81\xad\tng\tabuse\n"
    b = b"term\tmode\tcategory\nx\tng\tspam\n"
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.tsv").write_bytes(a)
    (tmp_path / "sub" / "b.tsv").write_bytes(b)
    wordlist = load_wordlists(tmp_path)
    expected = hashlib.sha256(b"a.tsv\0" + a + b"\0" + b"sub/b.tsv\0" + b + b"\0").hexdigest()
    assert wordlist.version == expected[:12]
    assert wordlist.files == (str(tmp_path / "a.tsv"), str(tmp_path / "sub" / "b.tsv"))
    (tmp_path / "sub" / "b.tsv").rename(tmp_path / "sub" / "c.tsv")  # same bytes, new name
    assert load_wordlists(tmp_path).version != wordlist.version


def test_warnings_are_exact_and_every_entry_is_checked(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_text(HEADER + "しね\tng\tabuse\t\t\n"   # 2
                                    "シネ\tng\tabuse\t\t\n"           # 3: duplicate of 2
                                    "むかしね\tallow\tabuse\t\t\n"     # 4
                                    "ばか\twatch\tabuse\tsite-1\t\n"  # 5
                                    "バカ\tng\tabuse\tsite-1\t\n"     # 6: like 5, stricter
                                    "ばか\tallow\tabuse\tsite-1\t\n"  # 7: covers 5 and 6
                                    "死\twatch\tself_harm\t\t\n"      # 8: one character
                                    "x\tng\tspam\t\t\n",              # 9: Latin, whole word
                                    encoding="utf-8")
    warnings = [w.replace(f"{tmp_path}/", "") for w in load_wordlists(tmp_path).warnings]
    assert warnings == [
        "a.tsv:3: duplicate of a.tsv:2 ('シネ' normalizes to the same ng entry)",
        "a.tsv:6: 'バカ' (ng, abuse) normalizes like a.tsv:5 'ばか' (watch, abuse); a post gets "
        "both hits, so the stricter mode wins",
        "a.tsv:5: can never fire: allow entry a.tsv:7 covers every occurrence of 'ばか'",
        "a.tsv:6: can never fire: allow entry a.tsv:7 covers every occurrence of 'バカ'",
        "a.tsv:8: '死' is one character and will match inside many words",
    ]


@pytest.mark.parametrize(("normalized", "latin"), [
    ("abc", True), ("kil yourself", True), ("123", False), ("", False),
    ("\u024f", True),   # the last code point of Latin Extended-B
    ("\u0250", False),  # the first IPA letter
    ("øx", True), ("ø日", False), ("①", False),
])
def test_is_latin_term(normalized: str, latin: bool) -> None:
    assert is_latin_term(normalized) is latin


def test_matcher_keeps_version_engine_and_the_priorities_set_by_the_lists(
    tmp_path: Path, engine: str,
) -> None:
    (tmp_path / "a.tsv").write_text(RULES + "しね\tng\tabuse\t\t70\t\t\n"
                                    "ばか\twatch\tabuse\t\t\t\t\n"
                                    "ホ別\tng\tsexual\t\t40\t{price}\t5\n"
                                    "ホ込\tng\tsexual\t\t\t{price}\t5\n", encoding="utf-8")
    wordlist = load_wordlists(tmp_path)
    matcher = Matcher(wordlist, engine)
    assert (matcher.version, matcher.engine_name) == (wordlist.version, engine)
    assert matcher.priorities == {("しね", "abuse"): 70, ("ホ別 & {price}", "sexual"): 40}
