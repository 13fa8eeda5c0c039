"""The enforcer's transition function: (ledger, event, now) -> (new ledger, actions). Pure.

A **violation** (from the filter) adds a strike; a **decision** (from patrol) becomes the
matching action and, where `enforcer.patrol_strike_decisions` says so, a strike. After a new
strike the user's *standing* is recomputed: the highest rung reached by the active strike
weight, or by a `straight_to` category of an active strike. When the standing rises, the new
rung's action is issued (source `escalation`). A lead's (or chief's) `approve` of a deleted post,
or naming a decision or action in `overturns`, withdraws the strikes behind it, emits `restore`
of the post and `lift` of a suspension that no longer stands, and is recorded in the ledger.

Idempotence: every event that changed the ledger is remembered in `Ledger.applied`. A replayed
event changes nothing and yields again the actions it produced, with the same ids, because the
first run may have written the ledger but not the actions.

Clock: the ladder runs on event time (a violation's `detected_at`, a decision's `decided_at`);
`now` only stamps `issued_at`, so a replay reaches the same decisions whenever it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from msgspec.structs import replace

from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Action, Decision, Violation
from pipeline.enforcer.ladder import NO_RUNG, Ladder, Ladders
from pipeline.enforcer.ledger import Issued, Ledger, Overturn, Strike, parse_time
from pipeline.enforcer.settings import DAY_S, EnforcerConfig, LadderConfig
from pipeline.errors import PoisonRecord

Event = Violation | Decision


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the transition function needs besides the ledger.

    Attributes:
        auto_action: the filter's action on an NG post (`policy.ng_action`); only a `delete`
            needs a `restore` when overturned.
    """

    ladders: Ladders
    enforcer: EnforcerConfig
    auto_action: str = "delete"

    @classmethod
    def of(cls, ladder: LadderConfig, enforcer: EnforcerConfig,
           auto_action: str = "delete") -> Policy:
        """The policy of a configuration (`config.ladder`, `config.enforcer`,
        `config.policy.ng_action`)."""
        return cls(Ladders(ladder), enforcer, auto_action)

    def auto_action_id(self, site_id: str, post_id: str) -> str:
        """The id the filter gave its automatic action on a post (see FilterCore)."""
        return stable_id("action", self.auto_action, site_id, post_id)


@dataclass(slots=True)
class Outcome:
    """The result of applying one event.

    Attributes:
        ledger: the new ledger (the same object when nothing changed).
        actions: the actions to produce: new ones, or on a replay the ones the event produced.
        changed: the ledger changed and must be written to the changelog.
        replay: the event had been applied before.
        strikes: strikes the event added (for metrics).
        issued: actions the event issued for the first time (for metrics).
        overturned: the event was an overturn that withdrew or reversed something.
    """

    ledger: Ledger
    actions: list[Action]
    changed: bool = False
    replay: bool = False
    strikes: list[Strike] = field(default_factory=list)
    issued: list[Issued] = field(default_factory=list)
    overturned: bool = False


def event_id(event: Event) -> str:
    """The stable id of an event."""
    return event.violation_id if isinstance(event, Violation) else event.decision_id


def apply(ledger: Ledger | None, event: Event, now: str, policy: Policy) -> Outcome:
    """Apply one event to a user's ledger.

    Args:
        ledger: the user's ledger, or None for a user never seen.
        event: a Violation or a Decision about that user.
        now: RFC 3339 time stamped on new actions as `issued_at`.
        policy: ladders and enforcer settings.

    Raises:
        PoisonRecord: the event cannot be applied (no categories, a time that does not parse,
            a delete without post or a suspension without duration); it belongs in the DLQ.
    """
    if isinstance(event, Violation):
        at_s = parse_time(event.detected_at, "detected_at")
        if not event.categories:
            raise PoisonRecord("schema", "violation: categories must not be empty")
    else:
        at_s = parse_time(event.decided_at, "decided_at")
        _check_decision(event)
    if ledger is None:
        ledger = Ledger(site_id=event.site_id, user_id=event.user_id)
    eid = event_id(event)
    if eid in ledger.applied:
        return Outcome(ledger, [ledger.to_action(i) for i in ledger.actions if i.event_id == eid],
                       replay=True)
    step = _Step(ledger, policy, eid, at_s, now)
    if isinstance(event, Violation):
        step.violation(event)
    else:
        step.decision(event)
    return step.finish()


def _check_decision(decision: Decision) -> None:
    kind = decision.decision
    if kind == "delete" and not decision.post_id:
        raise PoisonRecord("schema", "decision: a delete needs post_id")
    if kind == "suspend" and (decision.duration_s is None or decision.duration_s <= 0):
        raise PoisonRecord("schema", "decision: a suspend needs a positive duration_s")


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a user stands on the ladder at one moment.

    Attributes:
        level: the rung index (NO_RUNG below the first).
        weight: the active strike weight.
        straight_level: the highest straight-to rung of an active strike (or NO_RUNG), and
            `straight_category` that strike's category.
        via_straight: `level` is the straight-to rung (the weight alone reaches less).
        counting: ids of the active strikes.
    """

    level: int
    weight: int
    straight_level: int
    straight_category: str | None
    via_straight: bool
    counting: list[str]


def standing(strikes: list[Strike], t_s: int, ladder: Ladder) -> Standing:
    """The user's rung at `t_s`: the higher of the rung the active weight reaches and the
    straight-to rungs of active strikes."""
    counting = [s for s in strikes
                if s.state == "active" and s.at_s <= t_s < s.expires_s]
    weight = sum(s.weight for s in counting)
    straight_level, straight_category = NO_RUNG, None
    if ladder.straight_to:  # most ladders have none: skip the loop
        for strike in counting:
            straight = ladder.straight(strike.category)
            if straight > straight_level:
                straight_level, straight_category = straight, strike.category
    return _standing(ladder, weight, straight_level, straight_category,
                     [s.strike_id for s in counting])


def _standing(ladder: Ladder, weight: int, straight_level: int, straight_category: str | None,
              counting: list[str]) -> Standing:
    by_weight = ladder.rung_for_weight(weight)
    via_straight = straight_level > by_weight  # a tie goes to the weight's rung
    return Standing(straight_level if via_straight else by_weight, weight, straight_level,
                    straight_category, via_straight, counting)


def plus(before: Standing, strike: Strike, ladder: Ladder) -> Standing:
    """`before` with one more strike that counts now (cheaper than `standing` again)."""
    straight_level, category = before.straight_level, before.straight_category
    straight = ladder.straight(strike.category)
    if straight > straight_level:
        straight_level, category = straight, strike.category
    return _standing(ladder, before.weight + strike.weight, straight_level, category,
                     [*before.counting, strike.strike_id])


class _Step:
    """One event being applied: working copies of the ledger's lists."""

    def __init__(self, ledger: Ledger, policy: Policy, eid: str, at_s: int, now: str) -> None:
        self.old = ledger
        self.policy = policy
        self.ladder = policy.ladders.of(ledger.site_id)
        self.eid = eid
        self.at_s = at_s
        self.now = now
        self.site = ledger.site_id
        self.user = ledger.user_id
        # The old ledger's lists, copied on first write (most events touch only strikes).
        self.strikes = ledger.strikes
        self.actions = ledger.actions
        self.overturns = ledger.overturns
        self.added: list[Strike] = []
        self.issued: list[Issued] = []
        self.changed = False
        self.overturned = False

    def _strikes(self) -> list[Strike]:
        if self.strikes is self.old.strikes:
            self.strikes = list(self.strikes)
        return self.strikes

    def _actions(self) -> list[Issued]:
        if self.actions is self.old.actions:
            self.actions = list(self.actions)
        return self.actions

    def _overturns(self) -> list[Overturn]:
        if self.overturns is self.old.overturns:
            self.overturns = list(self.overturns)
        return self.overturns

    # -- events ------------------------------------------------------------------------------

    def violation(self, violation: Violation) -> None:
        category = self.ladder.heaviest(violation.categories)
        approval = self._approval_of(violation.post_id)
        if approval is not None:
            self._late_strike_of_approved_post(violation, category, approval)
            return
        if self._expelled():  # the strike is kept, but there is nothing left to issue
            self._strike(category, "filter", violation.post_id)
            return
        before = standing(self.strikes, self.at_s, self.ladder)
        strike = self._strike(category, "filter", violation.post_id)
        if strike is not None:
            self._escalate(before, strike)

    def decision(self, decision: Decision) -> None:
        kind = decision.decision
        may_overturn = decision.role in self.policy.enforcer.overturn_roles
        if may_overturn and (kind == "approve" or decision.overturns is not None):
            # An approve of a deleted post, or a decision replacing another (`overturns`):
            # what stood is reversed first, then the new decision applies like any other.
            self._overturn(decision)
        if kind in ("approve", "escalate"):
            return  # escalate is a queue matter for the console: nothing for the site yet
        before = standing(self.strikes, self.at_s, self.ladder)
        strike = None
        if kind in self.policy.enforcer.patrol_strike_decisions:
            strike = self._strike(self.policy.enforcer.patrol_category, "patrol",
                                  decision.post_id, active_only=True)
        self._issue(
            stable_id("action", "patrol", kind, self.site, decision.decision_id),
            kind, post_id=decision.post_id if kind == "delete" else None,
            duration_s=decision.duration_s if kind == "suspend" else None,
            reason=f"patrol {kind} by {decision.role} (decision {decision.decision_id})",
            source="patrol", rule=f"patrol.{kind}",
            strike_ids=[strike.strike_id] if strike is not None else [])
        if strike is not None:
            self._escalate(before, strike)

    # -- strikes and the ladder ------------------------------------------------------------

    def _strike(self, category: str, source: str, post_id: str | None, *,
                active_only: bool = False) -> Strike | None:
        """Add a strike, unless the post already has one (a post counts once). A patrol
        decision may strike a post whose earlier strike was withdrawn (`active_only`): a chief
        re-deleting a post a lead had restored."""
        if post_id is not None:
            for s in self.strikes:  # a plain loop: this runs for every violation
                if s.post_id == post_id and (s.state == "active" or not active_only):
                    return None
        strike = Strike(
            strike_id=stable_id("strike", self.site, self.user, self.eid), category=category,
            weight=self.ladder.weight(category), source=source,  # type: ignore[arg-type]
            event_id=self.eid, post_id=post_id, at_s=self.at_s,
            expires_s=self.at_s + self.ladder.expiry_s(category))
        self._strikes().append(strike)
        self.added.append(strike)
        self.changed = True
        return strike

    def _escalate(self, before: Standing, strike: Strike) -> None:
        """Issue the rung the user rose to with `strike`, if any (one action, the highest rung
        reached)."""
        after = plus(before, strike, self.ladder)
        if after.level <= before.level or self._expelled():
            return
        rung = self.ladder.rungs[after.level]
        if after.via_straight:
            assert after.straight_category is not None
            rule = self.ladder.straight_rule(after.straight_category)
            why = f"a strike in {after.straight_category} goes straight to {rung.name}"
        else:
            rule = self.ladder.rung_rule(after.level)
            why = f"active strike weight {after.weight} reached {rung.name} (>= {rung.at_weight})"
        self._issue(
            stable_id("action", "escalation", self.site, self.user, self.eid, rung.name),
            rung.action, post_id=None, duration_s=rung.duration_s,
            reason=f"escalation: {why}; ladder {self.ladder.name}, "
                   f"{len(after.counting)} active strike(s)",
            source="escalation", rule=rule, strike_ids=after.counting, level=after.level)

    def _expelled(self) -> bool:
        """An expel stands: the account is gone, so the ladder has nothing more to issue."""
        for issued in self.actions:  # a plain loop: this runs for every violation
            if issued.action == "expel" and issued.reversed_by is None:
                return True
        return False

    def _issue(self, action_id: str, action: str, *, post_id: str | None,
               duration_s: int | None, reason: str, source: str, rule: str,
               strike_ids: list[str], level: int | None = None,
               reverses: str | None = None) -> Issued:
        issued = Issued(
            action_id=action_id, action=action, post_id=post_id,  # type: ignore[arg-type]
            duration_s=duration_s, reason=reason, source=source,  # type: ignore[arg-type]
            rule=rule, strike_ids=list(strike_ids), issued_at=self.now, event_id=self.eid,
            at_s=self.at_s, level=level, reverses=reverses)
        self._actions().append(issued)
        self.issued.append(issued)
        self.changed = True
        return issued

    # -- overturns ---------------------------------------------------------------------------

    def _overturn(self, decision: Decision) -> None:
        target = decision.overturns
        post = decision.post_id
        auto_id = self.policy.auto_action_id
        deletes = self.policy.auto_action == "delete"

        def strike_matches(s: Strike) -> bool:
            if s.state != "active":
                return False
            if target is None:
                return post is not None and s.post_id == post
            return s.event_id == target or (
                s.source == "filter" and s.post_id is not None
                and auto_id(self.site, s.post_id) == target)

        def action_matches(i: Issued) -> bool:
            if i.reversed_by is not None or i.action in ("restore", "lift"):
                return False
            if target is None:
                return i.source == "patrol" and i.action == "delete" and i.post_id == post
            return i.action_id == target or (i.source == "patrol" and i.event_id == target)

        withdrawn = self._withdraw(strike_matches, decision.decision_id)
        restores: dict[str, tuple[str, list[str]]] = {}  # post -> (reversed action, strikes)
        for s in withdrawn:
            if s.source == "filter" and s.post_id is not None and deletes:
                restores.setdefault(s.post_id, (auto_id(self.site, s.post_id), []))
                restores[s.post_id][1].append(s.strike_id)
        reversed_ids: list[str] = []
        lifts: list[Issued] = []
        for index, issued in enumerate(self.actions):
            if not action_matches(issued):
                continue
            self._actions()[index] = _reversed(issued, decision.decision_id)
            reversed_ids.append(issued.action_id)
            if issued.action == "delete" and issued.post_id is not None:
                restores.setdefault(issued.post_id, (issued.action_id, []))
            elif issued.in_force_at(self.at_s):
                lifts.append(issued)
        about_post = post is not None and (target is None or target == auto_id(self.site, post))
        if about_post and target is not None and deletes and post not in restores:
            assert post is not None
            # An automatic delete without a strike (an exempt category such as self_harm).
            restores[post] = (target, [])
        if decision.decision == "delete" and post is not None:
            restores.pop(post, None)  # deleted again by this very decision: no restore
        ids = [s.strike_id for s in withdrawn]
        # With strikes gone, escalations above the new standing no longer stand.
        after = standing(self.strikes, self.at_s, self.ladder)
        for index, issued in enumerate(self.actions):
            if (issued.source == "escalation" and issued.reversed_by is None
                    and issued.level is not None and issued.level > after.level
                    and (issued.in_force_at(self.at_s) or issued.action == "expel")):
                self._actions()[index] = _reversed(issued, decision.decision_id)
                reversed_ids.append(issued.action_id)
                if issued.action == "suspend":
                    lifts.append(issued)
        who = f"overturn by {decision.role} (decision {decision.decision_id})"
        made = [self._restore(p, reverses, strike_ids or ids, who, decision.decision_id)
                for p, (reverses, strike_ids) in restores.items()]
        made += [self._lift(issued, ids, who, decision.decision_id) for issued in lifts]
        effect = bool(withdrawn or reversed_ids or made)
        if effect:
            self.overturned = True
        if effect or target is not None or about_post:
            # Recorded even without effect: an approve that arrives before its violation
            # still withdraws the strike when the violation comes (see violation()).
            self._overturns().append(Overturn(
                decision_id=decision.decision_id, at_s=self.at_s, reviewer=decision.reviewer,
                role=decision.role, target=target if target is not None else post or "",
                post_id=post if about_post else None, withdrawn=ids, reversed=reversed_ids,
                issued=[i.action_id for i in made]))
            self.changed = True

    def _withdraw(self, matches: Callable[[Strike], bool], decision_id: str) -> list[Strike]:
        withdrawn = []
        for index, strike in enumerate(self.strikes):
            if matches(strike):
                new = replace(strike, state="withdrawn", withdrawn_by=decision_id,
                              withdrawn_s=self.at_s)
                self._strikes()[index] = new
                withdrawn.append(new)
        if withdrawn:
            self.changed = True
        return withdrawn

    def _restore(self, post_id: str, reverses: str, strike_ids: list[str], who: str,
                 decision_id: str) -> Issued:
        return self._issue(
            stable_id("action", "restore", self.site, decision_id, post_id), "restore",
            post_id=post_id, duration_s=None, reason=f"{who}: the post is restored",
            source="patrol", rule="overturn.restore", strike_ids=strike_ids, reverses=reverses)

    def _lift(self, suspension: Issued, strike_ids: list[str], who: str,
              decision_id: str) -> Issued:
        return self._issue(
            stable_id("action", "lift", self.site, decision_id, suspension.action_id), "lift",
            post_id=None, duration_s=None,
            reason=f"{who}: the suspension ({suspension.rule}) no longer stands",
            source="patrol", rule="overturn.lift", strike_ids=strike_ids,
            reverses=suspension.action_id)

    def _approval_of(self, post_id: str) -> int | None:
        """Index of a recorded overturn that approved this post before its violation came."""
        for index, overturn in enumerate(self.overturns):
            if overturn.post_id == post_id:
                return index
        return None

    def _late_strike_of_approved_post(self, violation: Violation, category: str,
                                      index: int) -> None:
        """The violation of a post a lead already approved: its strike is born withdrawn and
        the post is restored, with the ids an in-order overturn would have given."""
        approval = self.overturns[index]
        if any(s.post_id == violation.post_id for s in self.strikes):
            return
        strike = Strike(
            strike_id=stable_id("strike", self.site, self.user, self.eid), category=category,
            weight=self.ladder.weight(category), source="filter", event_id=self.eid,
            post_id=violation.post_id, at_s=self.at_s,
            expires_s=self.at_s + self.ladder.expiry_s(category), state="withdrawn",
            withdrawn_by=approval.decision_id, withdrawn_s=approval.at_s)
        self._strikes().append(strike)
        self.changed = True
        issued = [i.action_id for i in self.actions
                  if i.event_id == approval.decision_id and i.action == "restore"
                  and i.post_id == violation.post_id]
        if self.policy.auto_action == "delete" and not issued:
            who = f"overturn by {approval.role} (decision {approval.decision_id})"
            made = self._restore(violation.post_id,
                                 self.policy.auto_action_id(self.site, violation.post_id),
                                 [strike.strike_id], who, approval.decision_id)
            issued = [made.action_id]
        self._overturns()[index] = replace(
            approval, withdrawn=[*approval.withdrawn, strike.strike_id],
            issued=sorted({*approval.issued, *issued}))
        self.overturned = True

    # -- the new ledger ----------------------------------------------------------------------

    def finish(self) -> Outcome:
        if not self.changed:
            return Outcome(self.old, [])
        applied = dict(self.old.applied)
        applied[self.eid] = self.at_s
        ledger = _pruned(Ledger(
            site_id=self.site, user_id=self.user, strikes=self.strikes, actions=self.actions,
            overturns=self.overturns, applied=applied), self.ladder, self.policy.enforcer,
            self.at_s)
        return Outcome(ledger, [ledger.to_action(i) for i in self.issued], changed=True,
                       strikes=self.added, issued=self.issued, overturned=self.overturned)


def _reversed(issued: Issued, decision_id: str) -> Issued:
    return replace(issued, reversed_by=decision_id)


def _pruned(ledger: Ledger, ladder: Ladder, enforcer: EnforcerConfig, at_s: int) -> Ledger:
    """Forget what can no longer matter: event ids older than the longest expiry, history past
    its retention (a standing expel is kept), and the oldest entries beyond the cap.

    Entries are appended in event order, so the first of each list is (about) the oldest: the
    full pass runs only when one of them is due, or a list is over the cap, which keeps the
    common event O(1) here.
    """
    horizon = at_s - ladder.longest_expiry_s
    keep = at_s - enforcer.history_retention_days * DAY_S
    cap = enforcer.max_ledger_entries
    applied, strikes, actions, overturns = (ledger.applied, ledger.strikes, ledger.actions,
                                            ledger.overturns)
    due = (max(len(applied), len(strikes), len(actions), len(overturns)) > cap
           or (applied and next(iter(applied.values())) < horizon)
           or (strikes and _strike_end(strikes[0]) < keep)
           or (actions and _action_end(actions[0]) < keep)
           or (overturns and overturns[0].at_s < keep))
    if not due:
        return ledger
    applied = {e: t for e, t in applied.items() if t >= horizon}
    if len(applied) > cap:
        applied = dict(list(applied.items())[-cap:])
    return Ledger(
        site_id=ledger.site_id, user_id=ledger.user_id,
        strikes=[s for s in strikes if _strike_end(s) >= keep][-cap:],
        actions=[i for i in actions if _action_end(i) >= keep][-cap:],
        overturns=[o for o in overturns if o.at_s >= keep][-cap:], applied=applied)


def _strike_end(strike: Strike) -> int:
    return strike.withdrawn_s if strike.withdrawn_s is not None else strike.expires_s


def _action_end(issued: Issued) -> int:
    """When an action stops mattering; a standing expel never does."""
    if issued.action == "expel" and issued.reversed_by is None:
        return 2**62
    return issued.at_s + (issued.duration_s or 0)
