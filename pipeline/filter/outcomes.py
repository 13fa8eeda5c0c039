"""What a judged post or report yields: the Action, Violation and ReviewItem messages. Pure.

The policy (`policy.decide`) says what happens to a post with these hits; this module writes it
down as messages of the contract, with their stable ids. It knows no topic and no encoding: the
filter worker routes and encodes them.

Stable ids (the README's contract):
    action_id    = id("action", action, site_id, post_id)
    violation_id = id("violation", site_id, post_id)
    item_id      = id("review", "filter", site_id, post_id), or
                   id("review", "report", site_id, report_id) for a report
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.config import PolicyConfig
from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Action, Hit, Post, Report, ReviewItem, Verdict, Violation
from pipeline.errors import PoisonRecord
from pipeline.filter.policy import decide, report_priority

Message = Action | Violation | ReviewItem


@dataclass(frozen=True, slots=True)
class PostOutcome:
    """The verdict on one post and the messages it yields.

    Attributes:
        verdict: `ng`, `review` or `clean`.
        hits: the surviving hits.
        action: the automatic action on an NG post, else None.
        violation: the strike event of an NG post outside the strike-exempt categories.
        review: the review item, when a person must look at the post.
    """

    verdict: Verdict
    hits: list[Hit]
    action: Action | None = None
    violation: Violation | None = None
    review: ReviewItem | None = None

    @property
    def messages(self) -> list[Message]:
        """The messages, in the order they are produced."""
        return [m for m in (self.action, self.violation, self.review) if m is not None]


def post_outcome(post: Post, hits: list[Hit], policy: PolicyConfig, now: str,
                 wordlist_version: str,
                 priorities: Mapping[tuple[str, str], int]) -> PostOutcome:
    """The outcome of a post with these surviving hits.

    Args:
        post: the post.
        hits: its surviving hits.
        policy: the verdict policy.
        now: the time of judgement (RFC 3339), the Action's `issued_at`.
        wordlist_version: stamped on every message.
        priorities: review priorities set by list entries, by (term, category).
    """
    if not hits:
        return PostOutcome("clean", hits)
    decision = decide(hits, policy)
    action = violation = review = None
    if decision.verdict == "ng":
        ng_hits = [h for h in hits if h.mode == "ng"]
        categories = sorted({h.category for h in ng_hits})
        terms = sorted({h.term for h in ng_hits})
        action = Action(
            action_id=stable_id("action", policy.ng_action, post.site_id, post.post_id),
            action=policy.ng_action,
            site_id=post.site_id,
            user_id=post.user_id,
            post_id=post.post_id,
            duration_s=None,
            reason=f"ng categories={','.join(categories)} terms={','.join(terms)}",
            source="auto",
            issued_at=now,
            wordlist_version=wordlist_version,
        )
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
                wordlist_version=wordlist_version,
            )
    if decision.review_queue is not None:
        review = ReviewItem(
            item_id=stable_id("review", "filter", post.site_id, post.post_id),
            queue=decision.review_queue,
            priority=entry_priority(hits, decision.priority, priorities),
            site_id=post.site_id,
            user_id=post.user_id,
            post_id=post.post_id,
            text=post.text,
            hits=hits,
            source="filter",
            created_at=post.created_at,
            wordlist_version=wordlist_version,
        )
    return PostOutcome(decision.verdict, hits, action, violation, review)


def entry_priority(hits: Sequence[Hit], base: int,
                   priorities: Mapping[tuple[str, str], int]) -> int:
    """A list entry may carry its own priority; the highest one wins over the queue's."""
    return max([base, *(priorities.get((h.term, h.category), 0) for h in hits)])


def report_author(report: Report, record_key: bytes | None) -> str:
    """Whose post a report is about: `post_user_id`, else the user part of the record's
    `site_id:user_id` key.

    Raises:
        PoisonRecord: `schema`, when neither names the author (a report nobody can act on).
    """
    if report.post_user_id:
        return report.post_user_id
    if record_key:
        site, sep, user = record_key.decode("utf-8", "replace").partition(":")
        if sep and user and site == report.site_id:
            return user
    raise PoisonRecord("schema", "report names no author: no post_user_id and no "
                                 "site_id:user_id key for its site")


def report_item(report: Report, author: str, hits: list[Hit], policy: PolicyConfig,
                wordlist_version: str) -> ReviewItem:
    """The review item of a user report; `hits` are those of the reported post's text."""
    return ReviewItem(
        item_id=stable_id("review", "report", report.site_id, report.report_id),
        queue=policy.reports_queue,
        priority=report_priority(report.category, hits, policy),
        site_id=report.site_id,
        user_id=author,
        post_id=report.post_id,
        text=report.post_text or "",
        hits=hits,
        source="report",
        created_at=report.created_at,
        report_id=report.report_id,
        report_category=report.category,
        report_text=report.text,
        reporter_id=report.reporter_id,
        wordlist_version=wordlist_version,
    )
