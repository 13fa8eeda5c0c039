"""Matching normalized text against a wordlist.

The Aho-Corasick engine sits behind the small `Engine` interface so that engines can be
measured and swapped; `PyAhoCorasickEngine` (pyahocorasick) is the reference. `Matcher` adds the
wordlist semantics on top: whole-word matching for Latin-script terms, per-site entries, and
allow entries that drop the ng/watch hits they cover.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import ahocorasick

from pipeline.normalize import normalize, normalize_with_offsets, original_span
from pipeline.schemas import Hit
from pipeline.wordlists import Entry, Wordlist


class Engine(Protocol):
    """A multi-pattern search engine over normalized text."""

    def find(self, text: str) -> Iterator[tuple[int, int, tuple[int, ...]]]:
        """Yield `(start, end, values)` for every occurrence of every key, overlaps included."""
        ...


class PyAhoCorasickEngine:
    """pyahocorasick's automaton; keys are normalized terms, values tuples of entry indices."""

    def __init__(self, keys: dict[str, tuple[int, ...]]) -> None:
        self._automaton = ahocorasick.Automaton()
        for key, values in keys.items():
            self._automaton.add_word(key, (len(key), values))
        if keys:
            self._automaton.make_automaton()
        self._empty = not keys

    def find(self, text: str) -> Iterator[tuple[int, int, tuple[int, ...]]]:
        if self._empty:
            return
        for last, (length, values) in self._automaton.iter(text):
            yield last - length + 1, last + 1, values


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() and ord(ch) < 0x250


@dataclass(frozen=True, slots=True)
class RawHit:
    """A hit in normalized coordinates, before mapping back to the original text."""

    entry: Entry
    start: int
    end: int


class Matcher:
    """Finds the ng/watch hits of a wordlist in a text, honouring allow entries."""

    def __init__(self, wordlist: Wordlist) -> None:
        self.wordlist = wordlist
        self.version = wordlist.version
        self._entries: Sequence[Entry] = wordlist.entries
        keys: dict[str, list[int]] = {}
        for index, entry in enumerate(self._entries):
            keys.setdefault(entry.normalized, []).append(index)
        self._engine: Engine = PyAhoCorasickEngine({k: tuple(v) for k, v in keys.items()})
        #: Review priority set by list entries, by (term, category).
        self.priorities: dict[tuple[str, str], int] = {
            (e.term, e.category): e.priority for e in self._entries if e.priority is not None
        }

    def raw_hits(self, normalized: str, site_id: str | None) -> list[RawHit]:
        """Hits in normalized coordinates, allow entries already applied."""
        hits: list[RawHit] = []
        allows: list[tuple[int, int]] = []
        entries = self._entries
        for start, end, values in self._engine.find(normalized):
            for index in values:
                entry = entries[index]
                if entry.sites is not None and site_id not in entry.sites:
                    continue
                if entry.latin and not self._whole_word(normalized, start, end):
                    continue
                if entry.mode == "allow":
                    allows.append((start, end))
                else:
                    hits.append(RawHit(entry, start, end))
        if allows and hits:
            hits = [
                h for h in hits
                if not any(a_start <= h.start and h.end <= a_end for a_start, a_end in allows)
            ]
        return hits

    @staticmethod
    def _whole_word(text: str, start: int, end: int) -> bool:
        before_ok = start == 0 or not _is_word_char(text[start - 1])
        after_ok = end == len(text) or not _is_word_char(text[end])
        return before_ok and after_ok

    def match(self, text: str, site_id: str | None = None) -> list[Hit]:
        """All surviving hits in `text`, with offsets into `text` as written."""
        raw = self.raw_hits(normalize(text), site_id)
        if not raw:
            return []
        _, origin = normalize_with_offsets(text)
        return to_hits(raw, origin)


def to_hits(raw: list[RawHit], origin: list[int]) -> list[Hit]:
    """Map normalized-coordinate hits back to the original text, ordered by position."""
    hits = []
    for h in raw:
        start, end = original_span(origin, h.start, h.end)
        hits.append(Hit(h.entry.term, h.entry.mode, h.entry.category, start, end))  # type: ignore[arg-type]
    hits.sort(key=lambda h: (h.start, h.end, h.term))
    return hits
