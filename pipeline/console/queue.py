"""Cases in the store (I/O shell): ingest of review items and history, claims and leases,
decisions and overturns with their outbox rows.

Every change that matters is written with its audit row in the same transaction, and every
decision with its outbox row, so a crash or a Kafka outage can lose neither.
"""

from __future__ import annotations

import collections
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa

from pipeline.console import cases as rules
from pipeline.console.accounts import AccountError, AccountsMixin
from pipeline.console.roles import User
from pipeline.console.schema import (
    case_categories,
    cases,
    claims,
    decisions,
    history,
    outbox,
    review_items,
)
from pipeline.contract.ids import user_key
from pipeline.contract.messages import Action, Decision, ReviewItem, Violation

_CHUNK = 2000
_decision_encoder = msgspec.json.Encoder()


class NotHeld(AccountError):
    """A decision or renewal on a case the reviewer does not hold (any more)."""

    def __init__(self) -> None:
        super().__init__("error.not_held")


@dataclass(frozen=True)
class Claim:
    """A case held by a reviewer until `lease_until`."""

    case_id: str
    claim_id: str
    lease_until: float


@dataclass
class IngestCounts:
    """What one ingest call wrote (replays are counted as duplicates)."""

    items: int = 0
    duplicates: int = 0
    new_cases: int = 0
    history: int = 0
    reopened: int = 0

    def add(self, other: IngestCounts) -> None:
        """Count `other` in too."""
        self.items += other.items
        self.duplicates += other.duplicates
        self.new_cases += other.new_cases
        self.history += other.history
        self.reopened += other.reopened


@dataclass(frozen=True)
class Filters:
    """What a reviewer narrowed the queues to."""

    queue: str | None = None
    site: str | None = None
    category: str | None = None


NO_FILTERS = Filters()


@dataclass
class Decided:
    """A decision as recorded; `duplicate` when the same submission was already recorded."""

    decision: Decision
    duplicate: bool = False
    #: When the decided claim began (time to decision), None for an overturn.
    claimed_ts: float | None = None
    #: The reviewer's next case, when the decision asked for one, and leases it took over.
    next: Claim | None = None
    lapsed: int = 0


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _case_slices(items: Sequence[ReviewItem], size: int) -> Iterable[list[ReviewItem]]:
    """`items` in slices of about `size` (a case's items together, in first-seen order of the
    cases; a slice exceeds `size` only by the items of its last case)."""
    by_case: dict[str, list[ReviewItem]] = collections.defaultdict(list)
    for item in items:
        by_case[rules.case_id(item.site_id, item.post_id)].append(item)
    part: list[ReviewItem] = []
    for group in by_case.values():
        part.extend(group)
        if len(part) >= size:
            yield part
            part = []
    if part:
        yield part


def decision_message(row: Any) -> Decision:
    """The Decision message of a stored decision row."""
    return Decision(
        decision_id=row.decision_id, item_id=row.item_id, site_id=row.site_id,
        user_id=row.user_id, post_id=row.post_id, decision=row.decision,
        duration_s=row.duration_s, note=row.note, reviewer=row.reviewer, role=row.role,
        overturns=row.overturns, decided_at=row.decided_at)


class QueueMixin(AccountsMixin):
    """Ingest, claims, decisions."""

    reporter_priority_step = 5

    #: Items (or history events) per ingest slice on SQLite, or None for no slices. SQLite
    #: has a single writer, and a consumer batch of 2,000 items takes 0.2-0.4 s to write at a
    #: million cases: the ingest writes a batch slice by slice in one transaction, and when
    #: another write of the process waits (a reviewer's decision), it commits after the slice
    #: and lets it in. A transaction per slice throughout cost about 30% of the ingest's rate
    #: (measured at 200k cases). PostgreSQL locks rows, not the database: one transaction.
    ingest_slice: int | None = 250

    # -- ingest --------------------------------------------------------------------------

    def ingest(self, items: Sequence[ReviewItem], actions: Sequence[Action] = (),
               violations: Sequence[Violation] = ()) -> IngestCounts:
        """Write review items (merged into cases by site and post) and history events,
        idempotent by id: a replayed batch changes nothing, and neither does the replay of a
        batch that was cut short part-way.

        One transaction; on SQLite, one per run of `ingest_slice`-item slices (a case's items
        stay in one slice; history events after the items) that ends where another writer
        waits.
        """
        size = self.ingest_slice if self.backend == "sqlite" else None
        if size is None or len(items) + len(actions) + len(violations) <= size:
            return self._ingest_once(items, actions, violations)
        slices: list[tuple[Sequence[ReviewItem], Sequence[Action], Sequence[Violation]]] = [
            (part, (), ()) for part in _case_slices(items, size)]
        slices += [((), actions[i:i + size], ()) for i in range(0, len(actions), size)]
        slices += [((), (), violations[i:i + size]) for i in range(0, len(violations), size)]
        total = IngestCounts()
        done = 0
        while done < len(slices):
            with self.write() as conn:
                while done < len(slices):
                    total.add(self._ingest_in(conn, *slices[done]))
                    done += 1
                    if self.writers_waiting():
                        break  # commit this much; the waiting write goes next
        return total

    def _ingest_in(self, conn: sa.Connection, items: Sequence[ReviewItem],
                   actions: Sequence[Action], violations: Sequence[Violation]) -> IngestCounts:
        counts = self._ingest_items(conn, items)
        counts.history = self._ingest_history(conn, actions, violations)
        return counts

    def _ingest_once(self, items: Sequence[ReviewItem], actions: Sequence[Action],
                     violations: Sequence[Violation]) -> IngestCounts:
        """`ingest` in one transaction."""
        for attempt in range(5):
            try:
                with self.write() as conn:
                    return self._ingest_in(conn, items, actions, violations)
            except sa.exc.IntegrityError:
                # Another console instance wrote the same case or item meanwhile; the retry
                # sees its rows and merges into them.
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _ingest_items(self, conn: sa.Connection, items: Sequence[ReviewItem]) -> IngestCounts:
        counts = IngestCounts()
        unique: dict[str, ReviewItem] = {}
        for item in items:
            unique.setdefault(item.item_id, item)
        ids = list(unique)
        for chunk in _chunks(ids):
            for item_id in conn.execute(sa.select(review_items.c.item_id).where(
                    self.ids_in(review_items.c.item_id, chunk))).scalars():
                del unique[item_id]
        counts.duplicates = len(items) - len(unique)
        if not unique:
            return counts
        now = self.now()
        by_case: dict[str, list[ReviewItem]] = collections.defaultdict(list)
        for item in unique.values():
            by_case[rules.case_id(item.site_id, item.post_id)].append(item)
        case_ids = list(by_case)
        existing: dict[str, Any] = {}
        reporters: dict[str, set[str]] = collections.defaultdict(set)
        for chunk in _chunks(case_ids):
            for row in conn.execute(
                    sa.select(cases, decisions.c.decision.label("last_decision"))
                    .outerjoin(decisions, decisions.c.decision_id == cases.c.decision_id)
                    .where(self.ids_in(cases.c.case_id, chunk))):
                existing[row.case_id] = row
        # A case's items are written with the case (this transaction): only a case that
        # exists has reporters already.
        for chunk in _chunks(list(existing)):
            for row in conn.execute(sa.select(review_items.c.case_id,
                                              review_items.c.reporter_key).where(
                    self.ids_in(review_items.c.case_id, chunk),
                    review_items.c.reporter_key.is_not(None))):
                reporters[row.case_id].add(row.reporter_key)
        item_rows: list[dict[str, Any]] = []
        new_cases: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        category_rows: list[dict[str, Any]] = []  # of new cases
        merged_categories: list[dict[str, Any]] = []  # of existing ones: some may exist
        step = self.reporter_priority_step
        for cid, group in by_case.items():
            for item in group:
                key = rules.reporter_key(item)
                if key:
                    reporters[cid].add(key)
                item_rows.append({
                    "item_id": item.item_id, "case_id": cid, "queue": item.queue,
                    "priority": item.priority, "source": item.source, "text": item.text,
                    "hits": rules.encode_hits(item.hits), "created_at": item.created_at,
                    "created_ts": rules.epoch_s(item.created_at, now),
                    "report_id": item.report_id, "report_category": item.report_category,
                    "report_text": item.report_text, "reporter_key": key,
                    "wordlist_version": item.wordlist_version, "ingested_ts": now})
            top = max(group, key=lambda i: i.priority)
            text = next((i.text for i in group if i.text), "")
            old = existing.get(cid)
            (category_rows if old is None else merged_categories).extend(
                {"case_id": cid, "category": c} for c in sorted(rules.categories(group)))
            if old is None:
                new_cases.append({
                    "case_id": cid, "site_id": top.site_id, "post_id": top.post_id,
                    "user_id": next((i.user_id for i in group if i.user_id), top.user_id),
                    "text": text, "queue": top.queue, "item_priority": top.priority,
                    "priority": rules.case_priority(top.priority, len(reporters[cid]), step),
                    "reporters": len(reporters[cid]), "primary_item": top.item_id,
                    "status": "open",
                    "created_ts": min(rules.epoch_s(i.created_at, now) for i in group),
                    "updated_ts": now})
                continue
            item_priority, queue, primary = old.item_priority, old.queue, old.primary_item
            if top.priority > item_priority:
                item_priority, queue, primary = top.priority, top.queue, top.item_id
            status = old.status
            if status == "decided" and old.last_decision == "approve":
                status = "open"  # new evidence against a post that was kept: look again
                counts.reopened += 1
            updates.append({
                "b_case_id": cid, "b_text": old.text or text, "b_queue": queue,
                "b_item_priority": item_priority, "b_primary_item": primary,
                "b_priority": rules.case_priority(item_priority, len(reporters[cid]), step),
                "b_reporters": len(reporters[cid]), "b_status": status, "b_updated_ts": now})
        self.insert_rows(conn, cases, new_cases)
        if updates:
            conn.execute(cases.update().where(cases.c.case_id == sa.bindparam("b_case_id"))
                         .values(text=sa.bindparam("b_text"), queue=sa.bindparam("b_queue"),
                                 item_priority=sa.bindparam("b_item_priority"),
                                 primary_item=sa.bindparam("b_primary_item"),
                                 priority=sa.bindparam("b_priority"),
                                 reporters=sa.bindparam("b_reporters"),
                                 status=sa.bindparam("b_status"),
                                 updated_ts=sa.bindparam("b_updated_ts")), updates)
        self.insert_rows(conn, review_items, item_rows)
        self.insert_rows(conn, case_categories, category_rows)
        if merged_categories:
            conn.execute(self.insert_ignore(case_categories), merged_categories)
        counts.items = len(item_rows)
        counts.new_cases = len(new_cases)
        return counts

    def _ingest_history(self, conn: sa.Connection, actions: Sequence[Action],
                        violations: Sequence[Violation]) -> int:
        now = self.now()
        rows: dict[str, dict[str, Any]] = {}
        for a in actions:
            rows.setdefault(a.action_id, {
                "event_id": a.action_id, "site_id": a.site_id, "user_id": a.user_id,
                "kind": "action", "what": a.action, "post_id": a.post_id, "categories": "[]",
                "reason": a.reason, "source": a.source, "duration_s": a.duration_s,
                "ts": rules.epoch_s(a.issued_at, now)})
        for v in violations:
            rows.setdefault(v.violation_id, {
                "event_id": v.violation_id, "site_id": v.site_id, "user_id": v.user_id,
                "kind": "violation", "what": "strike", "post_id": v.post_id,
                "categories": json.dumps(v.categories, ensure_ascii=False),
                "reason": ", ".join(v.terms), "source": v.source, "duration_s": None,
                "ts": rules.epoch_s(v.detected_at, now)})
        if not rows:
            return 0
        ids = list(rows)
        for chunk in _chunks(ids):
            for event_id in conn.execute(sa.select(history.c.event_id).where(
                    self.ids_in(history.c.event_id, chunk))).scalars():
                del rows[event_id]
        if rows:
            conn.execute(self.insert_ignore(history), list(rows.values()))
        return len(rows)

    # -- claims --------------------------------------------------------------------------

    def _scope(self, query: sa.Select[Any], user: User, filters: Filters,
               site: str | sa.ColumnElement[str] | None = None) -> sa.Select[Any]:
        """`query` narrowed to the user's sites (or to `site`, one of them) and filters."""
        if site is not None:
            query = query.where(cases.c.site_id == site)
        elif not user.all_sites:
            query = query.where(cases.c.site_id.in_(sorted(user.sites)))
        if filters.site:
            query = query.where(cases.c.site_id == filters.site)
        if filters.category:
            query = query.where(sa.exists().where(
                case_categories.c.case_id == cases.c.case_id,
                case_categories.c.category == filters.category))
        return query

    def claim_next(self, user: User, filters: Filters = NO_FILTERS) -> tuple[Claim | None, int]:
        """Claim the next case for `user`: the one it already holds, else the open case of
        highest priority, then oldest, in its sites and filters (escalated cases when
        `filters.queue` is "escalated", leads and chiefs only). Atomic: two reviewers never
        get the same case.

        Returns:
            The claim (None when the queues are empty) and the number of lapsed leases the
            claim took over.
        """
        if filters.queue == rules.ESCALATED and not user.at_least("lead"):
            raise AccountError("error.forbidden")
        with self.write() as conn:
            return self._claim(conn, user, filters, self.now())

    def _claim(self, conn: sa.Connection, user: User, filters: Filters,
               now: float) -> tuple[Claim | None, int]:
        escalated = filters.queue == rules.ESCALATED and user.at_least("lead")
        held = conn.execute(
            sa.select(cases.c.case_id, cases.c.claim_id)
            .where(cases.c.claimed_by == user.user_id, cases.c.lease_until >= now,
                   cases.c.status.in_(("open", rules.ESCALATED)))
            .limit(1)).first()
        if held is not None:
            return self._extend(conn, held.case_id, held.claim_id, now), 0
        query = (sa.select(cases.c.case_id, cases.c.claim_id, cases.c.claimed_by,
                           cases.c.priority, cases.c.created_ts)
                 .where(cases.c.status == (rules.ESCALATED if escalated else "open"),
                        sa.or_(cases.c.claimed_by.is_(None), cases.c.lease_until < now))
                 .order_by(cases.c.priority.desc(), cases.c.created_ts)
                 .limit(1))
        if filters.queue and not escalated:
            query = query.where(cases.c.queue == filters.queue)
        scoped = self._scope(query, user, filters).with_for_update(skip_locked=True)
        if user.all_sites or filters.site or len(user.sites) < 2:
            row = conn.execute(scoped).first()
        else:
            # Both planners read `site_id IN (a, b) ORDER BY priority` as a walk of
            # ix_cases_next through every site's open cases (seconds at a million when these
            # sites have none; on SQLite inside the write lock): take each site's first case
            # from ix_cases_site_next, then the best of those.
            arms = [self._scope(query, user, filters, site).subquery()
                    for site in sorted(user.sites)]
            if self.backend == "sqlite":  # the write lock keeps other claims out meanwhile
                best = sa.union_all(*(sa.select(arm) for arm in arms)).subquery()
                row = conn.execute(
                    sa.select(best.c.case_id, best.c.claim_id, best.c.claimed_by)
                    .order_by(best.c.priority.desc(), best.c.created_ts).limit(1)).first()
            else:
                # Lock the best of those still free (SKIP LOCKED); when other reviewers hold
                # them all, the plain query finds the next free case.
                firsts = conn.execute(sa.union_all(*(sa.select(arm.c.case_id)
                                                     for arm in arms))).scalars().all()
                row = None
                if firsts:
                    row = conn.execute(query.where(cases.c.case_id.in_(firsts))
                                       .with_for_update(skip_locked=True)).first()
                    if row is None:
                        row = conn.execute(scoped).first()
        if row is None:
            return None, 0
        lapsed = 0
        if row.claimed_by is not None:
            self._lapse(conn, row.case_id, row.claim_id, now)
            lapsed = 1
        claim = Claim(row.case_id, secrets.token_hex(16), now + self.lease_s)
        conn.execute(cases.update().where(cases.c.case_id == row.case_id).values(
            claim_id=claim.claim_id, claimed_by=user.user_id,
            lease_until=claim.lease_until))
        conn.execute(claims.insert().values(
            claim_id=claim.claim_id, case_id=row.case_id, user_id=user.user_id,
            claimed_ts=now, lease_until=claim.lease_until))
        self.audit(conn, user.user_id, user.username, "claim", case_id=row.case_id)
        return claim, lapsed

    def _extend(self, conn: sa.Connection, case: str, claim_id: str, now: float) -> Claim:
        until = now + self.lease_s
        conn.execute(cases.update().where(cases.c.case_id == case).values(lease_until=until))
        conn.execute(claims.update().where(claims.c.claim_id == claim_id)
                     .values(lease_until=until))
        return Claim(case, claim_id, until)

    def _lapse(self, conn: sa.Connection, case: str, claim_id: str | None, now: float) -> None:
        conn.execute(claims.update().where(claims.c.claim_id == claim_id)
                     .values(ended_ts=now, outcome="lapsed"))
        self.audit(conn, None, "system", "lease_lapsed", case_id=case,
                   detail={"claim_id": claim_id})

    def renew(self, user: User, case: str, claim_id: str) -> Claim:
        """Extend a lease the reviewer still holds (the open case page calls this).

        Raises:
            NotHeld: the lease lapsed or the case is not the reviewer's.
        """
        now = self.now()
        with self.write() as conn:
            row = conn.execute(sa.select(cases.c.case_id).where(
                cases.c.case_id == case, cases.c.claim_id == claim_id,
                cases.c.claimed_by == user.user_id, cases.c.lease_until >= now,
                cases.c.status.in_(("open", rules.ESCALATED)))).first()
            if row is None:
                raise NotHeld()
            return self._extend(conn, case, claim_id, now)

    def release(self, user: User, case: str, claim_id: str) -> None:
        """Give a held case back to its queue (skip)."""
        now = self.now()
        with self.write() as conn:
            done = conn.execute(cases.update().where(
                cases.c.case_id == case, cases.c.claim_id == claim_id,
                cases.c.claimed_by == user.user_id).values(
                claim_id=None, claimed_by=None, lease_until=None)).rowcount
            if done:
                conn.execute(claims.update().where(claims.c.claim_id == claim_id)
                             .values(ended_ts=now, outcome="released"))
                self.audit(conn, user.user_id, user.username, "release", case_id=case)

    def sweep_lapsed(self) -> int:
        """Return every case whose lease lapsed to its queue. Returns how many."""
        now = self.now()
        with self.write() as conn:
            rows = conn.execute(
                sa.select(cases.c.case_id, cases.c.claim_id)
                .where(cases.c.claimed_by.is_not(None), cases.c.lease_until < now)
                .with_for_update(skip_locked=True)).all()
            for row in rows:
                self._lapse(conn, row.case_id, row.claim_id, now)
                conn.execute(cases.update().where(cases.c.case_id == row.case_id,
                                                  cases.c.claim_id == row.claim_id)
                             .values(claim_id=None, claimed_by=None, lease_until=None))
            return len(rows)

    # -- decisions -----------------------------------------------------------------------

    def decide(self, user: User, case: str, claim_id: str, form: rules.DecisionInput,
               topic: str, then: Filters | None = None) -> Decided:
        """Record a decision on a held case, with its audit row and its outbox row, and with
        `then`, claim the reviewer's next case in the same transaction ("straight to the next
        case" in one step).

        Submitting the same claim's decision again returns the recorded one (`duplicate`).

        Raises:
            NotHeld: the reviewer does not hold the case (never did, lease lapsed, taken).
            AccountError: an escalated case escalated again.
        """
        did = rules.decision_id(case, claim_id)
        now = self.now()
        with self.write() as conn:
            earlier = conn.execute(sa.select(decisions).where(
                decisions.c.decision_id == did)).first()
            if earlier is not None:
                if earlier.reviewer_id != user.user_id:
                    raise NotHeld()
                done = Decided(decision_message(earlier), duplicate=True)
                if then is not None:
                    done.next, done.lapsed = self._claim(conn, user, then, now)
                return done
            row = conn.execute(
                sa.select(cases, claims.c.claimed_ts)
                .outerjoin(claims, claims.c.claim_id == cases.c.claim_id)
                .where(cases.c.case_id == case).with_for_update(of=cases)).first()
            if (row is None or not user.sees_site(row.site_id) or row.claim_id != claim_id
                    or row.claimed_by != user.user_id or row.lease_until is None
                    or row.lease_until < now or row.status not in ("open", rules.ESCALATED)):
                raise NotHeld()
            if form.decision == "escalate" and row.status == rules.ESCALATED:
                raise AccountError("error.already_escalated")
            claimed_ts = row.claimed_ts
            message = Decision(
                decision_id=did, item_id=row.primary_item, site_id=row.site_id,
                user_id=row.user_id, post_id=row.post_id, decision=form.decision,
                duration_s=form.duration_s, note=form.note, reviewer=user.username,
                role=user.role, overturns=None, decided_at=rules.rfc3339(now))
            self._record(conn, message, case, user, now, claim_id, claimed_ts, topic)
            conn.execute(cases.update().where(cases.c.case_id == case).values(
                status=rules.ESCALATED if form.decision == "escalate" else "decided",
                claim_id=None, claimed_by=None, lease_until=None, decision_id=did,
                decided_ts=now, updated_ts=now))
            conn.execute(claims.update().where(claims.c.claim_id == claim_id)
                         .values(ended_ts=now, outcome="decided"))
            self.audit(conn, user.user_id, user.username, "decision", case_id=case,
                       target=did, detail={"decision": form.decision,
                                           "duration_s": form.duration_s})
            done = Decided(message, claimed_ts=claimed_ts)
            if then is not None:
                done.next, done.lapsed = self._claim(conn, user, then, now)
            return done

    def overturn(self, user: User, overturned: str, form: rules.DecisionInput,
                 topic: str) -> Decided:
        """A lead's (or chief's) overturn of a decision, with a reason (the form's note).

        Raises:
            AccountError: not a lead, no such decision in the lead's sites, no reason, an
                escalation (not a verdict), or the decision was overturned already.
        """
        if not user.at_least("lead"):
            raise AccountError("error.forbidden")
        if not form.note:
            raise AccountError("error.reason_required")
        if form.decision == "escalate":
            raise AccountError("error.decision")
        oid = rules.overturn_id(overturned)
        now = self.now()
        with self.write() as conn:
            earlier = conn.execute(sa.select(decisions).where(
                decisions.c.decision_id == oid)).first()
            if earlier is not None:
                same = (earlier.decision, earlier.duration_s, earlier.note) == (
                    form.decision, form.duration_s, form.note)
                if not same:  # a different overturn of an overturned decision
                    raise AccountError("error.cannot_overturn")
                return Decided(decision_message(earlier), duplicate=True)
            orig = conn.execute(sa.select(decisions).where(
                decisions.c.decision_id == overturned).with_for_update()).first()
            if orig is None or not user.sees_site(orig.site_id):
                raise AccountError("error.no_such_decision")
            if orig.decision == "escalate" or orig.overturned_by is not None:
                raise AccountError("error.cannot_overturn")
            message = Decision(
                decision_id=oid, item_id=orig.item_id, site_id=orig.site_id,
                user_id=orig.user_id, post_id=orig.post_id, decision=form.decision,
                duration_s=form.duration_s, note=form.note, reviewer=user.username,
                role=user.role, overturns=overturned, decided_at=rules.rfc3339(now))
            self._record(conn, message, orig.case_id, user, now, None, None, topic)
            conn.execute(decisions.update().where(decisions.c.decision_id == overturned)
                         .values(overturned_by=oid))
            conn.execute(cases.update().where(cases.c.case_id == orig.case_id).values(
                decision_id=oid, status="decided", decided_ts=now, updated_ts=now))
            self.audit(conn, user.user_id, user.username, "overturn", case_id=orig.case_id,
                       target=oid, detail={"overturns": overturned,
                                           "decision": form.decision, "reason": form.note})
            return Decided(message)

    def _record(self, conn: sa.Connection, message: Decision, case: str, user: User,
                now: float, claim_id: str | None, claimed_ts: float | None,
                topic: str) -> None:
        values = msgspec.structs.asdict(message)
        conn.execute(decisions.insert().values(
            **values, case_id=case, reviewer_id=user.user_id, claim_id=claim_id,
            claimed_ts=claimed_ts, decided_ts=now))
        conn.execute(outbox.insert().values(
            decision_id=message.decision_id, topic=topic,
            key=user_key(message.site_id, message.user_id),
            value=_decision_encoder.encode(message), created_ts=now))
