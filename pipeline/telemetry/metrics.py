"""Prometheus metrics of a mimamori process (I/O shell).

Every metric takes a registry, so a test can build a fresh `CollectorRegistry` and read values
back with `registry.get_sample_value(...)`. Names are `mimamori_*`, in base units; labels are
bounded (topics, partitions, outcomes, categories and reasons come from configuration and
wordlists, never from users, posts or words).
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any, get_args
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    make_wsgi_app,
)

import pipeline
from pipeline.contract.messages import ReportCategory

# Filtering one post takes microseconds; the buckets resolve 5 µs to 50 ms.
RECORD_BUCKETS = (
    5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2,
)
BATCH_SIZE_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000)
# Every DLQ reason (`PoisonRecord.reason`, plus `internal_error` for a bug in mimamori) and
# every commit result, exported at 0 before the first one happens.
DLQ_REASONS = ("invalid_json", "invalid_utf8", "schema", "empty_text", "oversized",
               "internal_error")
COMMIT_RESULTS = ("ok", "rebalanced", "failed", "stuck")
BATCH_SECONDS_BUCKETS = (1e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def register_process(registry: CollectorRegistry) -> None:
    """Add prometheus_client's process collector (`process_cpu_seconds_total`,
    `process_resident_memory_bytes`, `process_open_fds`, `process_max_fds`,
    `process_start_time_seconds`) to a registry: the SRE dashboard plots them per process.

    Every mimamori process builds its own registry instead of using the default one (which
    registers the collector by itself), so each metric set must call this once.
    """
    ProcessCollector(registry=registry)


class Metrics:
    """The metric set of a filter worker."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        register_process(r)
        self.build_info = Info("mimamori_build", "Version of mimamori and Python", registry=r)
        self.build_info.info(
            {"version": pipeline.__version__, "python": platform.python_version()}
        )
        self.records_consumed = Counter(
            "mimamori_records_consumed", "Records fetched from input topics",
            ["topic"], registry=r,
        )
        self.verdicts = Counter(
            "mimamori_verdicts", "Posts judged, by outcome", ["outcome"], registry=r
        )
        self.reports = Counter(
            "mimamori_reports", "User reports judged, by report category", ["category"],
            registry=r,
        )
        self.hits = Counter(
            "mimamori_hits", "Surviving hits, by mode and category",
            ["mode", "category"], registry=r,
        )
        self.outputs = Counter(
            "mimamori_outputs", "Messages produced and acknowledged, by topic",
            ["topic"], registry=r,
        )
        self.dlq = Counter(
            "mimamori_dlq_records", "Records sent to a dead-letter topic, by reason",
            ["reason"], registry=r,
        )
        self.record_seconds = Histogram(
            "mimamori_record_processing_seconds",
            "Mean time to decode, normalize, match and decide one record, observed per batch "
            "(records are judged a batch at a time)",
            buckets=RECORD_BUCKETS, registry=r,
        )
        self.batch_seconds = Histogram(
            "mimamori_batch_processing_seconds",
            "Time from a batch's fetch to its offsets committed",
            buckets=BATCH_SECONDS_BUCKETS, registry=r,
        )
        self.batch_records = Histogram(
            "mimamori_batch_records", "Records per fetched batch",
            buckets=BATCH_SIZE_BUCKETS, registry=r,
        )
        self.in_flight = Gauge(
            "mimamori_in_flight_records",
            "Records fetched whose outputs are not yet acknowledged and committed", registry=r,
        )
        self.last_processed = Gauge(
            "mimamori_last_processed_timestamp_seconds",
            "Unix time at which the last batch was committed", registry=r,
        )
        self.lag = Gauge(
            "mimamori_consumer_lag_records", "Records behind the high watermark",
            ["topic", "partition"], registry=r,
        )
        self.commits = Counter(
            "mimamori_offset_commits", "Offset commits, by result", ["result"], registry=r
        )
        self.errors = Counter(
            "mimamori_errors", "Errors handled by the worker loop, by kind", ["kind"],
            registry=r,
        )
        self.wordlist_entries = Gauge(
            "mimamori_wordlist_entries", "Loaded wordlist entries, by mode", ["mode"],
            registry=r,
        )
        self.wordlist_load_seconds = Gauge(
            "mimamori_wordlist_load_seconds", "Time the last wordlist load took", registry=r
        )
        self.wordlist_loaded = Gauge(
            "mimamori_wordlist_loaded_timestamp_seconds",
            "Unix time of the last successful wordlist load", registry=r,
        )
        self.wordlist_reload_failed = Gauge(
            "mimamori_wordlist_reload_failed_timestamp_seconds",
            "Unix time of the last wordlist reload that failed (0: none since start); newer "
            "than the last successful load means the lists on disk are broken", registry=r,
        )
        self.wordlist_reloads = Counter(
            "mimamori_wordlist_reloads", "Wordlist hot reloads, by result (ok, error)",
            ["result"], registry=r,
        )
        self.wordlist_info = Info(
            "mimamori_wordlist", "Version of the wordlists in use", registry=r
        )
        self.up = Gauge(
            "mimamori_broker_connected",
            "1 while the broker answers this worker, 0 while it cannot be reached", registry=r,
        )
        self.unreachable_seconds = Counter(
            "mimamori_broker_unreachable_seconds", "Time spent unable to reach the broker",
            registry=r,
        )
        self._initialise_labels()

    def _initialise_labels(self) -> None:
        """Export every known label value at 0 from the start, so a dashboard panel or an
        alert sees a series (a flat zero) instead of no data until the first event."""
        for outcome in ("clean", "review", "ng", "report"):
            self.verdicts.labels(outcome)
        for category in get_args(ReportCategory):
            self.reports.labels(category)
        for reason in DLQ_REASONS:
            self.dlq.labels(reason)
        for result in COMMIT_RESULTS:
            self.commits.labels(result)
        for kind in ("fetch", "produce"):
            self.errors.labels(kind)
        for result in ("ok", "error"):
            self.wordlist_reloads.labels(result)
        self.wordlist_reload_failed.set(0)

    def serve(self, host: str, port: int,
              ready: Callable[[], tuple[bool, str]] | None = None) -> None:
        """Serve `/metrics` (and `/ready`, 200 or 503 with the reason) from a background thread.

        Port 0 means no endpoint.
        """
        if not port:
            return
        metrics_app = make_wsgi_app(self.registry)

        def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/ready":
                ok, reason = ready() if ready is not None else (True, "ok")
                start_response("200 OK" if ok else "503 Service Unavailable",
                               [("Content-Type", "text/plain; charset=utf-8")])
                return [reason.encode() + b"\n"]
            body: Iterable[bytes] = metrics_app(environ, start_response)
            return body

        server = make_server(host, port, app, _ThreadingServer, handler_class=_QuietHandler)
        threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""
