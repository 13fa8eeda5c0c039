"""The verdict policy: surviving hits in, outcome, queue and priority out. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.config import PolicyConfig
from pipeline.contract.messages import Hit, Verdict


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one post.

    Attributes:
        verdict: `ng` if an NG hit survived, else `review` if any watch or detector hit, else
            `clean`.
        review_queue: the patrol queue the post goes to, or None. An NG post goes to review only
            when a hit is in an urgent category (a person must look at self-harm and threats
            even after the post is gone).
        priority: the review priority (higher first), meaningful when `review_queue` is set.
        strike_categories: categories of the NG hits that count as a strike for the user.
    """

    verdict: Verdict
    review_queue: str | None
    priority: int
    strike_categories: tuple[str, ...]


def verdict_of(hits: Sequence[Hit]) -> Verdict:
    """The scan contract: ng beats review beats clean."""
    if any(h.mode == "ng" for h in hits):
        return "ng"
    return "review" if hits else "clean"


def decide(hits: Sequence[Hit], policy: PolicyConfig) -> Decision:
    """Map the surviving hits of a post to its outcome."""
    verdict = verdict_of(hits)
    if verdict == "clean":
        return Decision("clean", None, 0, ())
    urgent = any(h.category in policy.urgent_categories for h in hits)
    queue: str | None
    if urgent:
        queue, priority = policy.urgent_queue, policy.urgent_priority
    elif verdict == "review":
        queue, priority = policy.standard_queue, policy.standard_priority
    else:
        queue, priority = None, 0
    strikes: tuple[str, ...] = ()
    if verdict == "ng":
        exempt = policy.strike_exempt_categories
        strikes = tuple(sorted({h.category for h in hits if h.mode == "ng"} - set(exempt)))
    return Decision(verdict, queue, priority, strikes)


def report_priority(
    category: str, post_hits: Sequence[Hit], policy: PolicyConfig
) -> int:
    """Priority of a user report: the highest of the priorities that apply to it."""
    priority = policy.report_priority
    if category == "violating_post":
        priority = max(priority, policy.violating_post_report_priority)
    if post_hits:
        hit_decision = decide(post_hits, policy)
        hit_priority = hit_decision.priority or policy.standard_priority
        priority = max(priority, hit_priority)
    return priority
