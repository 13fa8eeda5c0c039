"""Loading and validating TSV wordlists (the wordlist contract in ARCHITECTURE.md).

A list file is UTF-8 TSV with `#` comments and a header row naming its columns. Required
columns: `term`, `mode` (`ng`, `watch`, `allow`), `category`. Optional: `sites` (comma-separated
site ids the entry applies to; empty means every site), `priority` (integer review priority
for watch entries), `note`. Unknown columns are allowed and ignored.

Loading is all-or-nothing: the first bad line raises `WordlistError` naming file, line and
reason, so a bad list never replaces a good one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from itertools import compress, count
from operator import attrgetter
from pathlib import Path
from typing import Literal, NamedTuple, cast

import msgspec

from pipeline.errors import WordlistError
from pipeline.text.evidence import Condition
from pipeline.text.normalize import normalize, term_forms
from pipeline.text.rules import Rule, pattern_name, split_alternatives

EntryMode = Literal["ng", "watch", "allow", "part"]
MODES: frozenset[str] = frozenset({"ng", "watch", "allow"})
REQUIRED_COLUMNS = ("term", "mode", "category")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SITE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")


class Entry(msgspec.Struct, frozen=True, gc=False):
    """One wordlist entry (a msgspec Struct: a 100,000-entry list builds them in milliseconds,
    and the garbage collector need not scan them).

    Attributes:
        term: the term as the list author wrote it (reported in hits).
        normalized: the term after `normalize`, what the matcher looks for.
        runs: for each character of `normalized`, how many times the term repeats it (a text
            must repeat it at least as often: "butt" does not fire on "but").
        gaps: positions of `normalized` after which the term as written has a gap (see
            `pipeline.text.evidence.deliberate`).
        latin: whether the term is Latin-script and so matches only as a whole word.
        context: an allow entry's conditions on its surroundings (`pipeline.text.evidence`).
    """

    term: str
    normalized: str
    runs: tuple[int, ...]
    gaps: tuple[int, ...]
    mode: EntryMode
    category: str
    sites: frozenset[str] | None
    priority: int | None
    latin: bool
    context: tuple[Condition, ...]
    path: str
    line: int
    #: For a part of a rule (mode `part`): the rule's index in `Wordlist.rules`, and which
    #: cell (0: term, 1: near) it is an alternative of.
    rule: int = -1
    side: int = 0


@dataclass(frozen=True)
class Wordlist:
    """A validated set of entries with a version derived from the files' content."""

    entries: tuple[Entry, ...]
    version: str
    files: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    #: Rules with context, and the term alternatives of their parts as entries of mode `part`.
    rules: tuple[Rule, ...] = field(default=())
    parts: tuple[Entry, ...] = field(default=())

    def count(self, mode: str) -> int:
        """How many entries have this mode."""
        return list(map(attrgetter("mode"), self.entries)).count(mode)


def is_latin_term(normalized: str) -> bool:
    """True when every letter of a normalized term is Latin script."""
    if normalized.isascii():
        return _ASCII_LETTER_RE.search(normalized) is not None
    letters = [c for c in normalized if c.isalpha()]
    return bool(letters) and all(ord(c) < 0x250 for c in letters)


#: A file's column layout: its width and the positions of the columns mimamori reads.
_Layout = tuple[int | None, ...]


class _Columns(NamedTuple):
    """Where the columns mimamori reads are in a file's rows (None: no such optional column)."""

    width: int
    term: int
    mode: int
    category: int
    sites: int | None
    priority: int | None
    context: int | None
    near: int | None
    within: int | None
    #: Categories already checked in this file (a list has a handful, used on every line).
    categories: set[str]

    @property
    def layout(self) -> _Layout:
        """What a line's parse depends on besides its text."""
        return (self.width, self.term, self.mode, self.category, self.sites, self.priority,
                self.context, self.near, self.within)

    @classmethod
    def of(cls, header: dict[str, int]) -> _Columns:
        """From a header that `_parse_header` accepted (the required columns are there)."""
        return cls(len(header), header["term"], header["mode"], header["category"],
                   header.get("sites"), header.get("priority"), header.get("context"),
                   header.get("near"), header.get("within"), set())


def _parse_header(path: str, lineno: int, line: str) -> dict[str, int]:
    columns = [c.strip().lower() for c in line.split("\t")]
    index: dict[str, int] = {}
    for position, name in enumerate(columns):
        if not name:
            raise WordlistError(path, lineno, f"header column {position + 1} is empty")
        if name in index:
            raise WordlistError(path, lineno, f"header names column {name!r} twice")
        index[name] = position
    missing = [c for c in REQUIRED_COLUMNS if c not in index]
    if missing:
        raise WordlistError(
            path, lineno, f"header lacks required column(s) {', '.join(missing)}; "
            f"a header row such as 'term<TAB>mode<TAB>category' must come first"
        )
    return index


class _Row(msgspec.Struct, gc=False):
    """A data line, checked except for its term's normalization."""

    line: int
    term: str
    mode: EntryMode
    category: str
    sites: frozenset[str] | None
    priority: int | None
    context: tuple[Condition, ...]


# Longest prefix first: "before!=" before "before=".
_CONTEXT_KINDS = {"before!=": "!before", "after!=": "!after", "before=": "before",
                  "after=": "after"}


def parse_context(cell: str) -> tuple[Condition, ...]:
    """The conditions of a `context` cell: space-separated `word`, `before=CHARS`,
    `before!=CHARS`, `after=CHARS`, `after!=CHARS`; CHARS are written like terms (any width or
    script) and `_` stands for a separator or the edge of the text.

    Raises:
        ValueError: with the reason, for a condition that cannot be read.
    """
    conditions: list[Condition] = []
    for token in cell.split():
        if token == "word":
            conditions.append(("word", ""))
            continue
        kind = next((k for k in _CONTEXT_KINDS if token.startswith(k)), None)
        if kind is None:
            raise ValueError(f"context {token!r} is not word, before=, before!=, after= "
                             "or after!=")
        chars = token[len(kind):]
        if not chars:
            raise ValueError(f"context {token!r} names no characters")
        folded = ""
        for ch in chars:
            form = " " if ch == "_" else normalize(ch)
            if len(form) != 1:
                raise ValueError(f"context character {ch!r} does not normalize to one letter")
            folded += form
        conditions.append((_CONTEXT_KINDS[kind], folded))
    return tuple(conditions)


def _parse_row(path: str, lineno: int, line: str, columns: _Columns) -> _Row:
    cells = line.split("\t")
    if len(cells) > columns.width:
        raise WordlistError(
            path, lineno, f"{len(cells)} columns but the header has {columns.width}"
        )
    needed = max(columns.term, columns.mode, columns.category) + 1
    if len(cells) < needed:
        names = [name for name, at in (("term", columns.term), ("mode", columns.mode),
                                       ("category", columns.category)) if at >= len(cells)]
        raise WordlistError(
            path, lineno, f"{len(cells)} column(s), but the header puts {', '.join(names)} in "
            f"column {needed}; separate the columns with tabs"
        )
    cells += [""] * (columns.width - len(cells))
    term = cells[columns.term].strip()
    if not term:
        raise WordlistError(path, lineno, "term is empty")
    mode = cells[columns.mode].strip().lower()
    if mode not in MODES:
        raise WordlistError(
            path, lineno, f"mode {cells[columns.mode].strip()!r} is not one of ng, watch, allow"
        )
    category = cells[columns.category].strip()
    if category not in columns.categories and not _CATEGORY_RE.match(category):
        raise WordlistError(
            path, lineno,
            f"category {category!r} must be lower-case letters, digits and _ (1-40 chars)",
        )
    sites_cell = cells[columns.sites].strip() if columns.sites is not None else ""
    sites: frozenset[str] | None = None
    if sites_cell:
        names = [s.strip() for s in sites_cell.split(",") if s.strip()]
        bad = [s for s in names if not _SITE_RE.match(s)]
        if bad:
            raise WordlistError(path, lineno, f"site id {bad[0]!r} is not a valid site id")
        sites = frozenset(names)
    priority_cell = cells[columns.priority].strip() if columns.priority is not None else ""
    priority: int | None = None
    if priority_cell:
        try:
            priority = int(priority_cell)
        except ValueError:
            raise WordlistError(
                path, lineno, f"priority {priority_cell!r} is not an integer"
            ) from None
        if not 0 <= priority <= 100:
            raise WordlistError(path, lineno, f"priority {priority} is outside 0-100")
    context: tuple[Condition, ...] = ()
    if columns.context is not None and cells[columns.context].strip():
        try:
            context = parse_context(cells[columns.context])
        except ValueError as exc:
            raise WordlistError(path, lineno, str(exc)) from None
    columns.categories.add(category)
    return _Row(lineno, term, mode, category, sites, priority,  # type: ignore[arg-type]
                context)


_MAX_WITHIN = 200


def _parse_rule(path: str, lineno: int, line: str, columns: _Columns) -> Rule:
    """A rule line (its `near` cell is filled in); the other cells are checked as for terms."""
    row = _parse_row(path, lineno, line, columns)
    cells = line.split("\t") + [""] * columns.width
    if row.mode not in ("ng", "watch"):
        raise WordlistError(path, lineno, f"a rule's mode must be ng or watch, not {row.mode}")
    if row.context:
        raise WordlistError(path, lineno, "a rule takes no context (its near cell is one)")
    within_cell = cells[columns.within].strip() if columns.within is not None else ""
    if not within_cell:
        raise WordlistError(path, lineno, "a rule (near) needs a within: the most characters "
                            "between its two parts")
    try:
        within = int(within_cell)
    except ValueError:
        raise WordlistError(path, lineno, f"within {within_cell!r} is not an integer") from None
    if not 0 <= within <= _MAX_WITHIN:
        raise WordlistError(path, lineno, f"within {within} is outside 0-{_MAX_WITHIN}")
    near_cell = cells[columns.near].strip()  # type: ignore[index]
    try:
        left, right = split_alternatives(row.term), split_alternatives(near_cell)
    except ValueError as exc:
        raise WordlistError(path, lineno, str(exc)) from None
    return Rule(f"{row.term} & {near_cell}", left, right, within, row.mode, row.category,
                row.sites, row.priority, path, lineno)


def _rule_parts(rules: list[Rule], offset: int) -> list[Entry]:
    """The term alternatives of rules, as entries of mode `part` (patterns are not entries).

    Raises:
        WordlistError: an alternative that normalizes to nothing.
    """
    wanted = [(i, side, alt) for i, rule in enumerate(rules)
              for side, cell in enumerate((rule.left, rule.right)) for alt in cell
              if pattern_name(alt) is None]
    parts: list[Entry] = []
    for (i, side, alt), form in zip(wanted, term_forms([alt for _, _, alt in wanted]),
                                    strict=True):
        rule = rules[i]
        if not form.match:
            raise WordlistError(rule.path, rule.line,
                                f"rule part {alt!r} is empty after normalization")
        parts.append(Entry(alt, form.match, form.runs, form.gaps, "part", rule.category,
                           rule.sites, None, is_latin_term(form.match), (), rule.path,
                           rule.line, offset + i, side))
    return parts


#: What a data line parses to: every field of its `Entry` but the place (path, line).
_Parsed = tuple[str, str, tuple[int, ...], tuple[int, ...], EntryMode, str,
                frozenset[str] | None, int | None, bool, tuple[Condition, ...]]
#: What the data lines of a layout parsed to, by line text.
_Lines = dict[_Layout, dict[str, _Parsed]]

def _normalized(path: str, rows: list[_Row]) -> list[_Parsed]:
    """What each new row parses to; the rows' terms are normalized together.

    Raises:
        WordlistError: the first row whose term normalizes to nothing.
    """
    parsed: list[_Parsed] = []
    for row, form in zip(rows, term_forms([row.term for row in rows]), strict=True):
        if not form.match:
            raise WordlistError(path, row.line, f"term {row.term!r} is empty after normalization")
        parsed.append((row.term, form.match, form.runs, form.gaps, row.mode, row.category,
                       row.sites, row.priority, is_latin_term(form.match), row.context))
    return parsed


def _is_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def parse_file(path: Path, seen: _Lines | None = None, known: _Lines | None = None
               ) -> tuple[list[Entry], list[Rule], bytes]:
    """Parse one TSV file into entries and rules; also return its raw bytes for versioning.

    Lines found in `known` (what the lines of the last load parsed to) are taken from it,
    looked up all at once; only the others go through the Python-level parsing. `seen`, when
    given, receives what every data line of this file parsed to.

    Raises:
        WordlistError: on the first bad line, naming file, line and reason.
    """
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WordlistError(name, 0, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise WordlistError(name, bad_line, f"not valid UTF-8 (byte {exc.start})") from None
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if not _is_comment(line)), None)
    if header is None:
        raise WordlistError(name, 0, "no header row (file is empty or only comments)")
    columns = _Columns.of(_parse_header(name, header + 1, lines[header]))
    first = header + 2  # the line number of body[0]
    body = lines[header + 1:]
    # What each line parsed to at the last load; None for a new line, blank line or comment.
    found: list[_Parsed | None] = list(map((known or {}).get(columns.layout, {}).get, body))
    rules: list[Rule] = []
    rule_lines: set[int] = set()
    if columns.near is not None:  # only files with a near column hold rules
        for i, line in enumerate(body):
            cells = line.split("\t")
            if (not _is_comment(line) and len(cells) > columns.near
                    and cells[columns.near].strip()):
                rules.append(_parse_rule(name, first + i, line, columns))
                rule_lines.add(i)
    rows: list[_Row] = []
    for i in [i for i, parsed in enumerate(found) if parsed is None]:
        if _is_comment(body[i]) or i in rule_lines:
            continue
        try:
            rows.append(_parse_row(name, first + i, body[i], columns))
        except WordlistError:
            _normalized(name, rows)  # a term above the bad line that normalizes to nothing
            raise
    for row, parsed in zip(rows, _normalized(name, rows), strict=True):
        found[row.line - first] = parsed
    # Blank lines and comments are the Nones left; `compress` drops them at C level.
    parses = cast("list[_Parsed]", list(compress(found, found)))
    if seen is not None:
        seen.setdefault(columns.layout, {}).update(
            zip(compress(body, found), parses, strict=True))
    return [Entry(*parsed, name, lineno) for lineno, parsed
            in zip(compress(count(first), found), parses, strict=True)], rules, raw


def list_files(directory: Path) -> list[Path]:
    """The `*.tsv` files of a wordlist directory, in a stable order."""
    if not directory.is_dir():
        raise WordlistError(str(directory), 0, "wordlist directory does not exist")
    files = sorted(p for p in directory.rglob("*.tsv") if p.is_file())
    if not files:
        raise WordlistError(str(directory), 0, "no *.tsv wordlist files found")
    return files


class WordlistLoader:
    """Loads list directories, remembering what each line of its last successful load parsed
    to. Parsing and normalization are pure functions of the line and the column layout, so a
    reload parses and normalizes only the lines that changed. The memory is replaced whole
    after each load, so it never outgrows the lists; a failed load leaves it as it was.

    A worker keeps one loader for its start-up load and its hot reloads; a dry run gives the
    active and the candidate lists a loader each, so neither evicts the other's lines.
    """

    def __init__(self) -> None:
        self._lines: _Lines = {}

    def forget(self) -> None:
        """Forget the last load (the benchmarks measure a load from nothing with it)."""
        self._lines = {}

    def load(self, directory: Path) -> Wordlist:
        """Load and validate every `*.tsv` list under a directory.

        Raises:
            WordlistError: the first problem found; nothing is returned, so a caller that
                holds a good list keeps it.
        """
        digest = hashlib.sha256()
        entries: list[Entry] = []
        rules: list[Rule] = []
        parts: list[Entry] = []
        files = list_files(directory)
        seen: _Lines = {}
        for path in files:
            file_entries, file_rules, raw = parse_file(path, seen, self._lines)
            entries.extend(file_entries)
            parts.extend(_rule_parts(file_rules, len(rules)))
            rules.extend(file_rules)
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + raw + b"\0")
        self._lines = seen
        warnings = _find_duplicates(entries) + _find_dead_entries(entries)
        return Wordlist(
            entries=tuple(entries),
            version=digest.hexdigest()[:12],
            files=tuple(str(p) for p in files),
            warnings=tuple(warnings),
            rules=tuple(rules),
            parts=tuple(parts),
        )


def load_wordlists(directory: Path, loader: WordlistLoader | None = None) -> Wordlist:
    """Load and validate every `*.tsv` list under a directory, with `loader`'s memory of its
    last load if given (see `WordlistLoader`).

    Raises:
        WordlistError: the first problem found, naming file, line and reason.
    """
    return (loader if loader is not None else WordlistLoader()).load(directory)


def _find_dead_entries(entries: list[Entry]) -> list[str]:
    """Entries that can never fire, and entries so short they will fire everywhere."""
    allows: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.mode == "allow" and not entry.context:
            allows.setdefault(entry.normalized, []).append(entry)
    warnings: list[str] = []
    for entry in entries:
        if entry.mode == "allow":
            continue
        for allow in allows.get(entry.normalized, []):
            if allow.sites is None or (entry.sites is not None and entry.sites <= allow.sites):
                warnings.append(
                    f"{entry.path}:{entry.line}: can never fire: allow entry "
                    f"{allow.path}:{allow.line} covers every occurrence of {entry.term!r}"
                )
                break
        if len(entry.normalized) == 1 and not entry.latin:
            warnings.append(
                f"{entry.path}:{entry.line}: {entry.term!r} is one character and will match "
                "inside many words"
            )
    return warnings


def _find_duplicates(entries: list[Entry]) -> list[str]:
    if len(set(map(attrgetter("normalized"), entries))) == len(entries):
        return []  # no two entries share a term: the usual case, checked at C level
    seen: dict[tuple[str, str, str, frozenset[str] | None], Entry] = {}
    # The first ng/watch entry of each normalized term and sites, to spot a conflict.
    firsts: dict[tuple[str, frozenset[str] | None], Entry] = {}
    warnings: list[str] = []
    for entry in entries:
        key = (entry.normalized, entry.mode, entry.category, entry.sites)
        first = seen.get(key)
        if first is not None:
            warnings.append(
                f"{entry.path}:{entry.line}: duplicate of {first.path}:{first.line} "
                f"({entry.term!r} normalizes to the same {entry.mode} entry)"
            )
            continue
        seen[key] = entry
        if entry.mode == "allow":
            continue
        other = firsts.setdefault((entry.normalized, entry.sites), entry)
        if other is not entry:
            warnings.append(
                f"{entry.path}:{entry.line}: {entry.term!r} ({entry.mode}, {entry.category}) "
                f"normalizes like {other.path}:{other.line} {other.term!r} ({other.mode}, "
                f"{other.category}); a post gets both hits, so the stricter mode wins"
            )
    return warnings
