"""The enforcer's Prometheus metrics (I/O shell). Labels are bounded: action kinds, sources,
rung actions, and strike categories named in the ladder configuration (anything else counts
as `other`), never a user, a post or a word."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.enforcer.rules import Outcome

# Restoring a partition's ledgers takes milliseconds for a few users and tens of seconds for
# millions.
RESTORE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)


class EnforcerMetrics:
    """The metric set of an enforcer process (the loop's metrics share its registry)."""

    def __init__(self, registry: CollectorRegistry | None = None,
                 categories: Iterable[str] = ()) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.categories = frozenset(categories)
        r = self.registry
        self.actions = Counter(
            "mimamori_enforcer_actions", "Actions issued by the enforcer (replays not counted), "
            "by action and source", ["action", "source"], registry=r)
        self.strikes = Counter(
            "mimamori_enforcer_strikes", "Strikes added to users' ledgers, by category "
            "(categories the ladder does not name count as other)", ["category"], registry=r)
        self.transitions = Counter(
            "mimamori_enforcer_ladder_transitions", "Users who rose to a new rung, by the rung's "
            "action", ["to"], registry=r)
        self.overturns = Counter(
            "mimamori_enforcer_overturns", "Overturns that withdrew a strike or reversed an "
            "action", registry=r)
        self.replays = Counter(
            "mimamori_enforcer_replays_skipped", "Events recognised as already applied (their "
            "actions sent again with the same ids, nothing applied twice)", registry=r)
        self.restore_seconds = Histogram(
            "mimamori_enforcer_restore_seconds", "Time to restore the ledgers of newly assigned "
            "partitions from the changelog", buckets=RESTORE_BUCKETS, registry=r)
        self.ledger_users = Gauge(
            "mimamori_enforcer_ledger_users", "Users whose ledgers this process holds",
            registry=r)
        for to in ("warn", "suspend", "expel"):
            self.transitions.labels(to)  # zero series, so alerts see them before the first

    def category(self, category: str) -> str:
        """The label of a strike category."""
        return category if category in self.categories else "other"

    def count(self, outcomes: Iterable[Outcome]) -> None:
        """Count what a committed batch did."""
        actions: Tally[tuple[str, str]] = Tally()
        strikes: Tally[str] = Tally()
        transitions: Tally[str] = Tally()
        overturns = replays = 0
        for outcome in outcomes:
            if outcome.replay:
                replays += 1
                continue
            for issued in outcome.issued:
                actions[(issued.action, issued.source)] += 1
                if issued.source == "escalation":
                    transitions[issued.action] += 1
            for strike in outcome.strikes:
                strikes[self.category(strike.category)] += 1
            overturns += outcome.overturned
        for (action, source), n in actions.items():
            self.actions.labels(action, source).inc(n)
        for category, n in strikes.items():
            self.strikes.labels(category).inc(n)
        for to, n in transitions.items():
            self.transitions.labels(to).inc(n)
        if overturns:
            self.overturns.inc(overturns)
        if replays:
            self.replays.inc(replays)
