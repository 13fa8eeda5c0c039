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
from pathlib import Path
from typing import Literal

from pipeline.errors import WordlistError
from pipeline.normalize import plain_form, track

EntryMode = Literal["ng", "watch", "allow"]
MODES: frozenset[str] = frozenset({"ng", "watch", "allow"})
REQUIRED_COLUMNS = ("term", "mode", "category")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SITE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One wordlist entry.

    Attributes:
        term: the term as the list author wrote it (reported in hits).
        normalized: the term after `normalize`, what the matcher looks for.
        plain: the term's `plain_form`; an allow entry counts only where the text has it.
        runs: for each character of `normalized`, how many times the term repeats it (a text
            must repeat it at least as often: "butt" does not fire on "but").
        latin: whether the term is Latin-script and so matches only as a whole word.
    """

    term: str
    normalized: str
    runs: tuple[int, ...]
    plain: str
    mode: EntryMode
    category: str
    sites: frozenset[str] | None
    priority: int | None
    latin: bool
    path: str
    line: int


@dataclass(frozen=True)
class Wordlist:
    """A validated set of entries with a version derived from the files' content."""

    entries: tuple[Entry, ...]
    version: str
    files: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    def count(self, mode: str) -> int:
        """How many entries have this mode."""
        return sum(1 for e in self.entries if e.mode == mode)


def term_form(term: str) -> tuple[str, tuple[int, ...]]:
    """A term's match-view form and the run length behind each of its characters."""
    _, match = track(term)
    text = match.text
    left = len(text) - len(text.lstrip(" "))
    right = len(text.rstrip(" "))
    return text[left:right], tuple(match.runs[left:right])


def is_latin_term(normalized: str) -> bool:
    """True when every letter of a normalized term is Latin script."""
    letters = [c for c in normalized if c.isalpha()]
    return bool(letters) and all(ord(c) < 0x250 for c in letters)


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


def _parse_entry(path: str, lineno: int, line: str, header: dict[str, int]) -> Entry:
    cells = line.split("\t")
    if len(cells) > len(header):
        raise WordlistError(
            path, lineno, f"{len(cells)} columns but the header has {len(header)}"
        )

    def cell(name: str) -> str:
        position = header.get(name)
        if position is None or position >= len(cells):
            return ""
        return cells[position].strip()

    term = cell("term")
    if not term:
        raise WordlistError(path, lineno, "term is empty")
    normalized, runs = term_form(term)
    if not normalized:
        raise WordlistError(path, lineno, f"term {term!r} is empty after normalization")
    mode = cell("mode").lower()
    if mode not in MODES:
        raise WordlistError(
            path, lineno, f"mode {cell('mode')!r} is not one of ng, watch, allow"
        )
    category = cell("category")
    if not _CATEGORY_RE.match(category):
        raise WordlistError(
            path, lineno,
            f"category {category!r} must be lower-case letters, digits and _ (1-40 chars)",
        )
    sites_cell = cell("sites")
    sites: frozenset[str] | None = None
    if sites_cell:
        names = [s.strip() for s in sites_cell.split(",") if s.strip()]
        bad = [s for s in names if not _SITE_RE.match(s)]
        if bad:
            raise WordlistError(path, lineno, f"site id {bad[0]!r} is not a valid site id")
        sites = frozenset(names)
    priority_cell = cell("priority")
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
    return Entry(
        term=term,
        normalized=normalized,
        runs=runs,
        plain=plain_form(term),
        mode=mode,  # type: ignore[arg-type]  # checked against MODES above
        category=category,
        sites=sites,
        priority=priority,
        latin=is_latin_term(normalized),
        path=path,
        line=lineno,
    )


def parse_file(path: Path) -> tuple[list[Entry], bytes]:
    """Parse one TSV file into entries; also return its raw bytes for versioning.

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
    header: dict[str, int] | None = None
    entries: list[Entry] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if header is None:
            header = _parse_header(name, lineno, line)
            continue
        entries.append(_parse_entry(name, lineno, line, header))
    if header is None:
        raise WordlistError(name, 0, "no header row (file is empty or only comments)")
    return entries, raw


def list_files(directory: Path) -> list[Path]:
    """The `*.tsv` files of a wordlist directory, in a stable order."""
    if not directory.is_dir():
        raise WordlistError(str(directory), 0, "wordlist directory does not exist")
    files = sorted(p for p in directory.rglob("*.tsv") if p.is_file())
    if not files:
        raise WordlistError(str(directory), 0, "no *.tsv wordlist files found")
    return files


def load_wordlists(directory: Path) -> Wordlist:
    """Load and validate every `*.tsv` list under a directory.

    Raises:
        WordlistError: the first problem found; nothing is returned, so a caller that holds a
            good list keeps it.
    """
    digest = hashlib.sha256()
    entries: list[Entry] = []
    files = list_files(directory)
    for path in files:
        file_entries, raw = parse_file(path)
        entries.extend(file_entries)
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + raw + b"\0")
    warnings = _find_duplicates(entries) + _find_dead_entries(entries)
    return Wordlist(
        entries=tuple(entries),
        version=digest.hexdigest()[:12],
        files=tuple(str(p) for p in files),
        warnings=tuple(warnings),
    )


def _find_dead_entries(entries: list[Entry]) -> list[str]:
    """Entries that can never fire, and entries so short they will fire everywhere."""
    allows: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.mode == "allow":
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
    seen: dict[tuple[str, str, str, frozenset[str] | None], Entry] = {}
    warnings: list[str] = []
    for entry in entries:
        key = (entry.normalized, entry.mode, entry.category, entry.sites)
        first = seen.get(key)
        if first is not None:
            warnings.append(
                f"{entry.path}:{entry.line}: duplicate of {first.path}:{first.line} "
                f"({entry.term!r} normalizes to the same {entry.mode} entry)"
            )
        else:
            seen[key] = entry
    return warnings
