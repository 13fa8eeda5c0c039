"""The filter core: a decoded post or report in, its hits, verdict and messages out. Pure.

Shared by the streaming workers, the offline scan and the dry run, so all judge a post the same
way. Finding hits is this module's work; what they lead to is `outcomes.py`'s.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from pipeline.config import Config
from pipeline.contract.messages import Hit, Post, Report, ReviewItem, Verdict
from pipeline.filter.outcomes import PostOutcome, post_outcome, report_author, report_item
from pipeline.filter.policy import verdict_of
from pipeline.text.detectors import Span, detect_contacts, might_contain_contacts
from pipeline.text.matcher import Matcher, RawHit
from pipeline.text.normalize import SENTINEL, text_starts, track, views, views_batch

CONTACT_CATEGORY = "contact"


class FilterCore:
    """Judges posts and reports with one loaded wordlist and the configured policy."""

    def __init__(self, matcher: Matcher, config: Config) -> None:
        self.matcher = matcher
        self.version = matcher.version
        self._policy = config.policy
        self._detectors = tuple(config.wordlists.detectors)

    def hits(self, text: str, site_id: str | None = None) -> list[Hit]:
        """Surviving wordlist hits and detector hits in `text`, offsets into `text`."""
        return self.hits_batch([text], [site_id])[0]

    def hits_batch(self, texts: Sequence[str],
                   sites: Sequence[str | None]) -> list[list[Hit]]:
        """`hits` for many texts: normalization, matching and detection run once over the
        whole batch; only texts with a candidate get the per-character offset tracking."""
        if any(SENTINEL in text for text in texts):  # hostile or odd: judge one by one
            return [self._hits_alone(text, site) for text, site in zip(texts, sites,
                                                                         strict=True)]
        batch = views_batch(texts)
        candidates = self.matcher.candidates_batch(batch.match, batch.match_starts, sites)
        contacts = self._contacts_batch(batch.base) if self._detectors else {}
        results: list[list[Hit]] = [[] for _ in texts]
        for index in candidates.keys() | contacts.keys():
            results[index] = self._resolve(texts[index], candidates.get(index, []),
                                           contacts.get(index, []))
        return results

    def _contacts_batch(self, base: str) -> dict[int, list[Span]]:
        """Detector spans by text index, offsets local to each text. Only the texts with a
        trigger character (about one in five) are joined and scanned by the detectors."""
        parts = base.split(SENTINEL)
        keep = [i for i, part in enumerate(parts) if might_contain_contacts(part)]
        if not keep:
            return {}
        kept = [parts[i] for i in keep]
        starts = text_starts(kept)
        contacts: dict[int, list[Span]] = {}
        for name, start, end in detect_contacts(SENTINEL.join(kept), self._detectors):
            j = bisect_right(starts, start) - 1
            contacts.setdefault(keep[j], []).append((name, start - starts[j], end - starts[j]))
        return contacts

    def _hits_alone(self, text: str, site_id: str | None) -> list[Hit]:
        fast = views(text)
        candidates = self.matcher.candidates(fast.match, site_id)
        contacts = detect_contacts(fast.base, self._detectors) if self._detectors else []
        if not candidates and not contacts:
            return []
        return self._resolve(text, candidates, contacts)

    def _resolve(self, text: str, candidates: list[RawHit], contacts: list[Span]) -> list[Hit]:
        """Offsets back into `text`, repeated letters and allow entries checked."""
        base, match = track(text)
        hits = []
        for raw in self.matcher.resolve(candidates, match, text):
            start, end = match.span(raw.start, raw.end)
            entry = raw.entry
            hits.append(Hit(entry.term, entry.mode, entry.category, start, end))  # type: ignore[arg-type]
        for name, b_start, b_end in contacts:
            start, end = base.span(b_start, b_end)
            hits.append(Hit(name, "watch", CONTACT_CATEGORY, start, end))
        hits.sort(key=lambda h: (h.start, h.end, h.term))
        return hits

    def scan(self, post: Post) -> tuple[Verdict, list[Hit]]:
        """The offline scan's view of a post: verdict and hits."""
        hits = self.hits(post.text, post.site_id)
        return verdict_of(hits), hits

    def process_post(self, post: Post, now: str, hits: list[Hit] | None = None) -> PostOutcome:
        """Judge a post: its verdict, hits and the messages it yields.

        `hits` are the post's hits when the caller already found them (`hits_batch`).
        """
        if hits is None:
            hits = self.hits(post.text, post.site_id)
        return post_outcome(post, hits, self._policy, now, self.version,
                            self.matcher.priorities)

    def process_report(self, report: Report, record_key: bytes | None) -> ReviewItem:
        """The review item of a user report, with the hits of the reported post's text.

        Raises:
            PoisonRecord: the report names no author (see `outcomes.report_author`).
        """
        author = report_author(report, record_key)
        post_text = report.post_text or ""
        hits = self.hits(post_text, report.site_id) if post_text else []
        return report_item(report, author, hits, self._policy, self.version)
