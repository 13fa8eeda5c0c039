"""Aho-Corasick engines behind one small interface, so they can be measured and swapped.
`PyAhoCorasickEngine` (pyahocorasick) is the reference; daachorse is the default. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import ahocorasick
import ahocorasick_rs
import daachorse


class Engine(Protocol):
    """A multi-pattern search engine over normalized text."""

    def find(self, text: str) -> list[tuple[int, int, int]]:
        """`(start, end, key index)` of every occurrence of every key, overlaps included,
        as code-point offsets into `text`."""
        ...


class PyAhoCorasickEngine:
    """pyahocorasick's automaton (the reference engine)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for index, key in enumerate(keys):
            self._automaton.add_word(key, (index, len(key)))
        if keys:
            self._automaton.make_automaton()
        self._empty = not keys

    def find(self, text: str) -> list[tuple[int, int, int]]:
        if self._empty:
            return []
        return [(last - length + 1, last + 1, index)
                for last, (index, length) in self._automaton.iter(text)]


class DaachorseEngine:
    """daachorse's character-wise double-array automaton, made for multibyte text."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._automaton = daachorse.CharwiseDoubleArrayAhoCorasick(list(keys)) if keys else None

    def find(self, text: str) -> list[tuple[int, int, int]]:
        if self._automaton is None:
            return []
        found: list[tuple[int, int, int]] = self._automaton.find_overlapping(text)
        return found


class AhoCorasickRsEngine:
    """ahocorasick-rs (the Rust aho-corasick crate)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._automaton = ahocorasick_rs.AhoCorasick(list(keys)) if keys else None

    def find(self, text: str) -> list[tuple[int, int, int]]:
        if self._automaton is None:
            return []
        return [(start, end, index) for index, start, end
                in self._automaton.find_matches_as_indexes(text, overlapping=True)]


ENGINES: dict[str, Callable[[Sequence[str]], Engine]] = {
    "pyahocorasick": PyAhoCorasickEngine,
    "daachorse": DaachorseEngine,
    "ahocorasick-rs": AhoCorasickRsEngine,
}


#: The engine used unless configured otherwise: the fastest in benchmarks/engines.py.
DEFAULT_ENGINE = "daachorse"
