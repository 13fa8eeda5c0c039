"""What the console's pages read from the store (I/O shell): queue statistics, a case with
its items, reports and the author's history, lists for leads, statistics for chiefs, the audit
log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from pipeline.console import cases as rules
from pipeline.console.queue import NO_FILTERS, Filters, QueueMixin
from pipeline.console.roles import User
from pipeline.console.schema import (
    audit_log,
    case_categories,
    cases,
    claims,
    decisions,
    history,
    review_items,
    users,
)
from pipeline.contract.messages import Hit


@dataclass(frozen=True)
class QueueStat:
    """One queue's depth and the creation time of its oldest case (None when empty)."""

    queue: str
    depth: int
    oldest_ts: float | None


@dataclass
class CaseView:
    """Everything the case page shows."""

    case: Any
    hits: list[Hit]
    items: list[Any]
    decisions: list[Any]
    history: list[Any]
    earlier: list[Any]
    categories: list[str] = field(default_factory=list)


class ViewsMixin(QueueMixin):
    """Read models of the pages."""

    def queue_stats(self, user: User | None, filters: Filters = NO_FILTERS) -> list[QueueStat]:
        """Depth and oldest case per queue in `user`'s scope (every site when None); the
        escalated cases as the queue "escalated"."""
        status = sa.case((cases.c.status == rules.ESCALATED, rules.ESCALATED),
                         else_=cases.c.queue)
        query = (sa.select(status.label("q"), sa.func.count(), sa.func.min(cases.c.created_ts))
                 .where(cases.c.status.in_(("open", rules.ESCALATED))).group_by("q"))
        if user is not None:
            query = self._scope(query, user, filters)
        with self.read() as conn:
            return [QueueStat(r[0], int(r[1]), r[2]) for r in conn.execute(query)]

    def active_reviewers(self) -> int:
        """Reviewers holding an unlapsed lease."""
        with self.read() as conn:
            return int(conn.execute(
                sa.select(sa.func.count(sa.distinct(cases.c.claimed_by)))
                .where(cases.c.claimed_by.is_not(None),
                       cases.c.lease_until >= self.now())).scalar_one())

    def sites_and_categories(self) -> tuple[list[str], list[str]]:
        """The sites and categories of open cases, for the filters."""
        with self.read() as conn:
            sites = conn.execute(sa.select(cases.c.site_id).distinct()
                                 .order_by(cases.c.site_id)).scalars().all()
            categories = conn.execute(sa.select(case_categories.c.category).distinct()
                                      .order_by(case_categories.c.category)).scalars().all()
        return list(sites), list(categories)

    def case_view(self, user: User, case: str) -> CaseView | None:
        """A case in `user`'s sites, or None (absent, or another site's)."""
        with self.read() as conn:
            row = conn.execute(sa.select(cases).where(cases.c.case_id == case)).first()
            if row is None or not user.sees_site(row.site_id):
                return None
            items = conn.execute(sa.select(review_items).where(
                review_items.c.case_id == case).order_by(review_items.c.created_ts)).all()
            hits: list[Hit] = []
            seen: set[tuple[int, int, str]] = set()
            for item in items:
                if item.text != row.text:
                    continue  # offsets are only valid in the text they were found in
                for hit in rules.decode_hits(item.hits):
                    if (hit.start, hit.end, hit.term) not in seen:
                        seen.add((hit.start, hit.end, hit.term))
                        hits.append(hit)
            hits.sort(key=lambda h: (h.start, h.end))
            made = conn.execute(sa.select(decisions).where(decisions.c.case_id == case)
                                .order_by(decisions.c.decided_ts)).all()
            events = conn.execute(
                sa.select(history).where(history.c.site_id == row.site_id,
                                         history.c.user_id == row.user_id)
                .order_by(history.c.ts.desc()).limit(50)).all()
            earlier = conn.execute(
                sa.select(cases.c.case_id, cases.c.text, cases.c.status, cases.c.created_ts,
                          decisions.c.decision, decisions.c.decided_at)
                .outerjoin(decisions, decisions.c.decision_id == cases.c.decision_id)
                .where(cases.c.site_id == row.site_id, cases.c.user_id == row.user_id,
                       cases.c.case_id != case)
                .order_by(cases.c.created_ts.desc()).limit(20)).all()
            categories = conn.execute(sa.select(case_categories.c.category).where(
                case_categories.c.case_id == case)).scalars().all()
        return CaseView(row, hits, list(items), list(made), list(events), list(earlier),
                        sorted(categories))

    def case_hits(self, case_ids: list[str]) -> dict[str, list[Hit]]:
        """Hits of each case's own text, for masking in lists."""
        out: dict[str, list[Hit]] = {c: [] for c in case_ids}
        if not case_ids:
            return out
        with self.read() as conn:
            for row in conn.execute(
                    sa.select(review_items.c.case_id, review_items.c.hits)
                    .join(cases, cases.c.case_id == review_items.c.case_id)
                    .where(review_items.c.case_id.in_(case_ids),
                           review_items.c.text == cases.c.text)):
                out[row.case_id].extend(rules.decode_hits(row.hits))
        return out

    def escalated(self, user: User, limit: int = 100) -> list[Any]:
        """Escalated cases in the lead's sites, most urgent first."""
        query = (sa.select(cases.c.case_id, cases.c.site_id, cases.c.text, cases.c.priority,
                           cases.c.created_ts, cases.c.claimed_by, cases.c.lease_until)
                 .where(cases.c.status == rules.ESCALATED)
                 .order_by(cases.c.priority.desc(), cases.c.created_ts).limit(limit))
        with self.read() as conn:
            return list(conn.execute(self._scope(query, user, NO_FILTERS)).all())

    def recent_decisions(self, user: User, limit: int = 100) -> list[Any]:
        """Decisions in the lead's sites, newest first (to overturn)."""
        query = (sa.select(decisions, cases.c.text)
                 .join(cases, cases.c.case_id == decisions.c.case_id)
                 .order_by(decisions.c.decided_ts.desc()).limit(limit))
        with self.read() as conn:
            return list(conn.execute(self._scope(query, user, NO_FILTERS)).all())

    def decision(self, decision_id: str) -> Any:
        """One decision row, or None."""
        with self.read() as conn:
            return conn.execute(sa.select(decisions).where(
                decisions.c.decision_id == decision_id)).first()

    def reviewer_stats(self, since_ts: float) -> list[dict[str, Any]]:
        """Per reviewer since `since_ts`: cases claimed, decisions by outcome, mean and median
        time from claim to decision, overturn rate."""
        with self.read() as conn:
            names = {r.user_id: (r.username, r.role) for r in conn.execute(
                sa.select(users.c.user_id, users.c.username, users.c.role))}
            claimed: dict[int, int] = dict(conn.execute(
                sa.select(claims.c.user_id, sa.func.count()).where(
                    claims.c.claimed_ts >= since_ts).group_by(claims.c.user_id)).all())
            rows = conn.execute(
                sa.select(decisions.c.reviewer_id, decisions.c.decision,
                          decisions.c.claimed_ts, decisions.c.decided_ts,
                          decisions.c.overturned_by)
                .where(decisions.c.decided_ts >= since_ts)).all()
        stats: dict[int, dict[str, Any]] = {}
        for uid, (name, role) in names.items():
            stats[uid] = {"username": name, "role": role, "claimed": int(claimed.get(uid, 0)),
                          "decisions": 0, "by_outcome": {}, "durations": [], "overturned": 0}
        for r in rows:
            s = stats.get(r.reviewer_id)
            if s is None:
                continue
            s["decisions"] += 1
            s["by_outcome"][r.decision] = s["by_outcome"].get(r.decision, 0) + 1
            if r.claimed_ts is not None:
                s["durations"].append(r.decided_ts - r.claimed_ts)
            if r.overturned_by is not None:
                s["overturned"] += 1
        out = []
        for s in stats.values():
            durations = sorted(s.pop("durations"))
            s["mean_s"] = sum(durations) / len(durations) if durations else None
            s["median_s"] = durations[len(durations) // 2] if durations else None
            s["overturn_rate"] = s["overturned"] / s["decisions"] if s["decisions"] else None
            out.append(s)
        return sorted(out, key=lambda s: (-s["decisions"], s["username"]))

    def audit_entries(self, limit: int = 200, action: str | None = None) -> list[Any]:
        """The newest audit rows."""
        query = sa.select(audit_log).order_by(audit_log.c.audit_id.desc()).limit(limit)
        if action:
            query = query.where(audit_log.c.action == action)
        with self.read() as conn:
            return list(conn.execute(query).all())

    def audit_export(self, batch: int = 5000) -> Iterator[list[Any]]:
        """Every audit row, oldest first, in batches (for the CSV export)."""
        last = 0
        while True:
            with self.read() as conn:
                rows = conn.execute(sa.select(audit_log).where(audit_log.c.audit_id > last)
                                    .order_by(audit_log.c.audit_id).limit(batch)).all()
            if not rows:
                return
            yield list(rows)
            last = rows[-1].audit_id


def categories_of(raw: str) -> list[str]:
    """Categories of a history event as stored."""
    value = json.loads(raw)
    return [str(v) for v in value] if isinstance(value, list) else []
