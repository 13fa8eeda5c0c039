"""The filter core: a decoded post or report in, verdict and output messages out. Pure.

Shared by the streaming workers and the offline scan, so both judge a post the same way.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pipeline.config import Config
from pipeline.contract.ids import stable_id, user_key
from pipeline.contract.messages import (
    Action,
    Hit,
    Post,
    Report,
    ReviewItem,
    Verdict,
    Violation,
    encoder,
)
from pipeline.filter.policy import decide, report_priority, verdict_of
from pipeline.text.detectors import Span, detect_contacts, might_contain_contacts
from pipeline.text.matcher import Matcher, RawHit
from pipeline.text.normalize import SENTINEL, text_starts, track, views, views_batch

CONTACT_CATEGORY = "contact"


class Output(NamedTuple):
    """One message to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


@dataclass(frozen=True, slots=True)
class PostResult:
    """The verdict on one post and the messages it produces."""

    verdict: Verdict
    hits: list[Hit]
    outputs: list[Output]


class FilterCore:
    """Judges posts and reports with one loaded wordlist and the configured policy."""

    def __init__(self, matcher: Matcher, config: Config) -> None:
        self.matcher = matcher
        self.version = matcher.version
        self._policy = config.policy
        self._topics = config.topics
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

    def process_post(self, post: Post, now: str, hits: list[Hit] | None = None) -> PostResult:
        """Judge a post and build its Action, Violation and ReviewItem messages.

        `hits` are the post's hits when the caller already found them (`hits_batch`).
        """
        if hits is None:
            hits = self.hits(post.text, post.site_id)
        if not hits:
            return PostResult("clean", hits, [])
        decision = decide(hits, self._policy)
        key = user_key(post.site_id, post.user_id)
        topics = self._topics
        outputs: list[Output] = []
        if decision.verdict == "ng":
            ng_hits = [h for h in hits if h.mode == "ng"]
            categories = sorted({h.category for h in ng_hits})
            terms = sorted({h.term for h in ng_hits})
            action = Action(
                action_id=stable_id("action", self._policy.ng_action, post.site_id, post.post_id),
                action=self._policy.ng_action,
                site_id=post.site_id,
                user_id=post.user_id,
                post_id=post.post_id,
                duration_s=None,
                reason=f"ng categories={','.join(categories)} terms={','.join(terms)}",
                source="auto",
                issued_at=now,
                wordlist_version=self.version,
            )
            outputs.append(Output(topics.actions, key, encoder.encode(action)))
            if decision.strike_categories:
                violation = Violation(
                    violation_id=stable_id("violation", post.site_id, post.post_id),
                    site_id=post.site_id,
                    user_id=post.user_id,
                    post_id=post.post_id,
                    categories=list(decision.strike_categories),
                    terms=terms,
                    source="filter",
                    created_at=post.created_at,
                    detected_at=now,
                    wordlist_version=self.version,
                )
                outputs.append(Output(topics.violations, key, encoder.encode(violation)))
        if decision.review_queue is not None:
            item = ReviewItem(
                item_id=stable_id("review", "filter", post.site_id, post.post_id),
                queue=decision.review_queue,
                priority=self._entry_priority(hits, decision.priority),
                site_id=post.site_id,
                user_id=post.user_id,
                post_id=post.post_id,
                text=post.text,
                hits=hits,
                source="filter",
                created_at=post.created_at,
                wordlist_version=self.version,
            )
            outputs.append(
                Output(topics.review(decision.review_queue), key, encoder.encode(item))
            )
        return PostResult(decision.verdict, hits, outputs)

    def _entry_priority(self, hits: list[Hit], base: int) -> int:
        """A list entry may carry its own priority; the highest one wins over the queue's."""
        by_term = self.matcher.priorities
        return max([base, *(by_term.get((h.term, h.category), 0) for h in hits)])

    def process_report(self, report: Report, record_key: bytes | None, now: str) -> Output:
        """Build the ReviewItem for a user report, with hits from the reported post's text."""
        user_id = report.post_user_id
        if user_id is None and record_key:
            _, _, user_id = record_key.decode("utf-8", "replace").partition(":")
        user_id = user_id or ""
        post_text = report.post_text or ""
        hits = self.hits(post_text, report.site_id) if post_text else []
        item = ReviewItem(
            item_id=stable_id("review", "report", report.site_id, report.report_id),
            queue=self._policy.reports_queue,
            priority=report_priority(report.category, hits, self._policy),
            site_id=report.site_id,
            user_id=user_id,
            post_id=report.post_id,
            text=post_text,
            hits=hits,
            source="report",
            created_at=report.created_at,
            report_id=report.report_id,
            report_category=report.category,
            report_text=report.text,
            reporter_id=report.reporter_id,
            wordlist_version=self.version,
        )
        return Output(
            self._topics.review(self._policy.reports_queue),
            user_key(report.site_id, user_id),
            encoder.encode(item),
        )
