"""Prometheus metrics of the patrol console (I/O shell). Labels are bounded: queue names
from configuration, decision kinds and roles; never a user, a post or a word (per-reviewer
statistics live on the chief's page, not here)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# A reviewer decides in seconds to minutes; a lease lasts 10 minutes by default.
DECISION_BUCKETS = (2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class ConsoleMetrics:
    """The console's metric set, on its own registry (one per test)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.queue_depth = Gauge("mimamori_console_queue_depth",
                                 "Open cases waiting in a queue", ["queue"], registry=r)
        self.queue_oldest_age = Gauge(
            "mimamori_console_queue_oldest_age_seconds",
            "Age of the oldest open case of a queue (0 when empty)", ["queue"], registry=r)
        self.queue_sla = Gauge("mimamori_console_queue_sla_seconds",
                               "Service level of a queue: the age a case should not reach",
                               ["queue"], registry=r)
        self.decisions = Counter("mimamori_console_decisions",
                                 "Decisions recorded, by outcome and the reviewer's role",
                                 ["decision", "role"], registry=r)
        self.decision_seconds = Histogram(
            "mimamori_console_decision_seconds", "Time from a claim to its decision",
            buckets=DECISION_BUCKETS, registry=r)
        self.leases_lapsed = Counter("mimamori_console_leases_lapsed",
                                     "Claims whose lease lapsed, returning the case",
                                     registry=r)
        self.outbox_backlog = Gauge("mimamori_console_outbox_backlog",
                                    "Decisions not yet published to Kafka", registry=r)
        self.outbox_oldest_age = Gauge(
            "mimamori_console_outbox_oldest_age_seconds",
            "Age of the oldest unpublished decision (0 when none)", registry=r)
        self.active_reviewers = Gauge("mimamori_console_active_reviewers",
                                      "Reviewers holding a case now", registry=r)
