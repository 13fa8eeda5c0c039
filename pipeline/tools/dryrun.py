"""Dry run of a candidate wordlist set against posts, beside the active set. Pure.

Operators test a list change before it acts on real users: every post is judged by both sets,
and each post whose verdict or hits differ is reported (newly hitting, no longer hitting, or
hitting differently), with counts by verdict change.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import msgspec

from pipeline.contract.messages import Hit, Post, Verdict, decode_post
from pipeline.errors import PoisonRecord
from pipeline.filter.judge import FilterCore
from pipeline.filter.policy import verdict_of
from pipeline.tools.scan import Overlong


class Change(msgspec.Struct, frozen=True):
    """One post judged differently by the candidate lists (one JSON line of output)."""

    post_id: str
    site_id: str
    active: Verdict
    candidate: Verdict
    added: list[Hit]
    removed: list[Hit]
    text: str


@dataclass
class Summary:
    """Counts over a dry run."""

    posts: int = 0
    invalid: int = 0
    changed: int = 0
    transitions: collections.Counter[tuple[str, str]] = field(
        default_factory=collections.Counter)

    def lines(self) -> list[str]:
        """Human-readable summary."""
        out = [f"{self.posts} posts judged, {self.invalid} invalid lines skipped, "
               f"{self.changed} judged differently"]
        newly = sum(n for (a, c), n in self.transitions.items() if a == "clean" and c != a)
        stopped = sum(n for (a, c), n in self.transitions.items() if c == "clean" and a != c)
        out.append(f"newly hitting: {newly}; no longer hitting: {stopped}")
        for (active, candidate), n in sorted(self.transitions.items()):
            out.append(f"  {active:>6} → {candidate:<6} {n}")
        return out


def compare(active: FilterCore, candidate: FilterCore, posts: Iterable[Post],
            summary: Summary, *, batch_records: int = 2000,
            after_batch: Callable[[Summary], None] | None = None) -> Iterator[Change]:
    """Yield every post the two sets judge differently, in input order; fill `summary` as it
    goes. Posts are judged `batch_records` at a time by each core (`FilterCore.hits_batch`,
    the workers' path); `after_batch` is called after each batch (a progress line)."""
    it = iter(posts)
    while batch := list(islice(it, batch_records)):
        texts, sites = [p.text for p in batch], [p.site_id for p in batch]
        found = zip(batch, active.hits_batch(texts, sites), candidate.hits_batch(texts, sites),
                    strict=True)
        summary.posts += len(batch)
        for post, a_hits, c_hits in found:
            if a_hits == c_hits:
                continue
            a_verdict, c_verdict = verdict_of(a_hits), verdict_of(c_hits)
            summary.changed += 1
            summary.transitions[(a_verdict, c_verdict)] += 1
            a_set, c_set = set(map(_key, a_hits)), set(map(_key, c_hits))
            yield Change(post.post_id, post.site_id, a_verdict, c_verdict,
                         [h for h in c_hits if _key(h) not in a_set],
                         [h for h in a_hits if _key(h) not in c_set], post.text)
        if after_batch is not None:
            after_batch(summary)


def _key(hit: Hit) -> tuple[str, str, str, int, int]:
    return (hit.term, hit.mode, hit.category, hit.start, hit.end)


def decode_posts(values: Iterable[bytes | Overlong | None], summary: Summary, *,
                 max_bytes: int, max_text_chars: int) -> Iterator[Post]:
    """Posts from raw values; invalid ones are counted and skipped (they never reach a list).
    An `Overlong` (a line too long to read whole, `scan.bounded_lines`) is invalid."""
    for value in values:
        if isinstance(value, Overlong):
            summary.invalid += 1
            continue
        try:
            yield decode_post(value, max_bytes=max_bytes, max_text_chars=max_text_chars)
        except PoisonRecord:
            summary.invalid += 1
