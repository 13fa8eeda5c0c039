"""Matching the match view of a text against a wordlist.

The Aho-Corasick engine sits behind the small `Engine` interface so that engines can be
measured and swapped; `PyAhoCorasickEngine` (pyahocorasick) is the reference. `Matcher` adds the
wordlist semantics on top: whole-word matching for Latin-script terms, per-site entries,
repeated-letter checks, and allow entries that drop the ng/watch hits they cover.

Matching is two-phase so that clean posts stay cheap: `candidates` runs on the fast match view
alone; only when it finds something does the caller build the tracked views and call `resolve`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from pipeline.text.engines import DEFAULT_ENGINE, ENGINES, Engine
from pipeline.text.evidence import Gap, context_holds, deliberate
from pipeline.text.normalize import Tracked
from pipeline.text.wordlists import Entry, Wordlist


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() and ch.isascii()


class RawHit(NamedTuple):
    """A hit of a list entry: in match-view offsets as a candidate, in offsets of the text as
    written once resolved. (A named tuple: built for every candidate, and cheaper to build
    than a frozen dataclass.)"""

    entry: Entry
    start: int
    end: int


class Matcher:
    """Finds the ng/watch hits of a wordlist in a text, honouring allow entries."""

    def __init__(self, wordlist: Wordlist, engine: str = DEFAULT_ENGINE) -> None:
        self.wordlist = wordlist
        self.version = wordlist.version
        self.engine_name = engine
        # Rule parts share the automaton with the entries: one search finds both.
        self._entries: Sequence[Entry] = wordlist.entries + wordlist.parts
        by_key = _entries_by_key([entry.normalized for entry in self._entries])
        #: Entry indices behind each engine key (one key may serve several entries).
        self._key_entries: list[tuple[int, ...]] = list(by_key.values())
        self._engine: Engine = ENGINES[engine](list(by_key))
        #: Review priority set by list entries, by (term, category).
        self.priorities: dict[tuple[str, str], int] = {
            (e.term, e.category): e.priority for e in self._entries if e.priority is not None
        }
        self.priorities.update({(r.term, r.category): r.priority for r in wordlist.rules
                                if r.priority is not None})

    def candidates_batch(self, match_text: str, starts: Sequence[int],
                         sites: Sequence[str | None]) -> dict[int, list[RawHit]]:
        """`candidates` for a batch: `match_text` holds every text's match view joined by the
        sentinel, `starts[i]` where text i begins. Returns candidates by text index, with
        offsets local to each text. One engine call for the whole batch."""
        found: dict[int, list[RawHit]] = {}
        entries = self._entries
        key_entries = self._key_entries
        for start, end, key in self._engine.find(match_text):
            index = bisect_right(starts, start) - 1
            offset = starts[index]
            site_id = sites[index]
            for entry_index in key_entries[key]:
                entry = entries[entry_index]
                if entry.sites is not None and site_id not in entry.sites:
                    continue
                if entry.latin and not _whole_word(match_text, start, end):
                    continue
                found.setdefault(index, []).append(
                    RawHit(entry, start - offset, end - offset))
        return found

    def candidates(self, match_text: str, site_id: str | None) -> list[RawHit]:
        """Every entry occurrence in one match view (allow entries included), whole words and
        sites already checked. Cheap: no per-character work unless something is found."""
        return self.candidates_batch(match_text, [0], [site_id]).get(0, [])

    @staticmethod
    def resolve(candidates: list[RawHit], match: Tracked,
                text: str) -> tuple[list[RawHit], list[tuple[int, int, list[Gap]]]]:
        """The candidates that hold in `text`, in offsets of `text` as written.

        A candidate holds when the text repeats each letter at least as often as the entry,
        when a match joined across separators was spaced out on purpose
        (`evidence.deliberate`), and when the entry's context conditions hold. Allow entries are
        held to exactly the same tests as ng and watch entries.

        Returns:
            The ng/watch hits and rule parts (mode `part`), and the allow matches with their gaps
            (the caller drops every hit, detectors' included, that one covers:
            `evidence.covers`).
        """
        runs = match.runs
        hits: list[RawHit] = []
        allows: list[tuple[int, int, list[Gap]]] = []
        for c in candidates:
            entry = c.entry
            if max(entry.runs) > 1 and not all(
                    have >= need for have, need in zip(runs[c.start:c.end], entry.runs,
                                                       strict=True)):
                continue  # (every letter of a text is there at least once)
            gaps = deliberate(text, match, c.start, c.end, entry.normalized, entry.gaps)
            if gaps is None:
                continue
            if entry.context and not context_holds(match.text, c.start, c.end, entry.context):
                continue
            start, end = match.span(c.start, c.end)
            if entry.mode == "allow":
                allows.append((start, end, gaps))
            else:
                hits.append(RawHit(entry, start, end))
        return hits, allows


def _entries_by_key(keys: list[str]) -> dict[str, tuple[int, ...]]:
    """The indices of `keys` by key, keys in order of first appearance. Built at C level but
    for the few keys that serve several entries, so a reload of a big list stays short."""
    # Each key -> (its last index,); for a key that serves one entry, its only index.
    by_key: dict[str, tuple[int, ...]] = dict(zip(keys, zip(range(len(keys))), strict=True))
    if len(by_key) < len(keys):
        shared: dict[str, list[int]] = {k: [] for k, n in Counter(keys).items() if n > 1}
        for index, key in enumerate(keys):
            if key in shared:
                shared[key].append(index)
        by_key.update((key, tuple(indices)) for key, indices in shared.items())
    return by_key


def _whole_word(text: str, start: int, end: int) -> bool:
    before_ok = start == 0 or not _is_word_char(text[start - 1])
    after_ok = end == len(text) or not _is_word_char(text[end])
    return before_ok and after_ok
