"""Prometheus metrics of a mimamori process (I/O shell).

Every metric takes a registry, so a test can build a fresh `CollectorRegistry` and read values
back with `registry.get_sample_value(...)`. Names are `mimamori_*`, in base units; labels are
bounded (topics, partitions, outcomes, categories and reasons come from configuration and
wordlists, never from users, posts or words).
"""

from __future__ import annotations

import contextlib
import platform
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
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
from pipeline.errors import ConfigError

# Filtering one post takes microseconds; the buckets resolve 5 µs to 50 ms.
RECORD_BUCKETS = (
    5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2,
)
BATCH_SIZE_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000)
BATCH_SECONDS_BUCKETS = (1e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LoopMetrics:
    """The metric families of the processing loop, labelled by `service` (one set per registry,
    so the services of one process, such as the demo's, share them)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.records_consumed = Counter(
            "mimamori_records_consumed", "Records fetched from input topics and committed",
            ["service", "topic"], registry=r,
        )
        self.outputs = Counter(
            "mimamori_outputs", "Messages produced and acknowledged for committed records, by "
            "topic", ["service", "topic"], registry=r,
        )
        self.dlq = Counter(
            "mimamori_dlq_records", "Records sent to a dead-letter topic, by reason",
            ["service", "reason"], registry=r,
        )
        self.record_seconds = Histogram(
            "mimamori_record_processing_seconds",
            "Mean time to process one record (decode, judge, build outputs), observed per batch "
            "(records are processed a batch at a time)",
            ["service"], buckets=RECORD_BUCKETS, registry=r,
        )
        self.batch_seconds = Histogram(
            "mimamori_batch_processing_seconds",
            "Time from a batch's fetch to its offsets committed",
            ["service"], buckets=BATCH_SECONDS_BUCKETS, registry=r,
        )
        self.batch_records = Histogram(
            "mimamori_batch_records", "Records per fetched batch",
            ["service"], buckets=BATCH_SIZE_BUCKETS, registry=r,
        )
        self.in_flight = Gauge(
            "mimamori_in_flight_records",
            "Records fetched whose outputs are not yet acknowledged and committed",
            ["service"], registry=r,
        )
        self.last_processed = Gauge(
            "mimamori_last_processed_timestamp_seconds",
            "Unix time at which the last batch was committed", ["service"], registry=r,
        )
        self.lag = Gauge(
            "mimamori_consumer_lag_records",
            "Records between the committed offset and the high watermark",
            ["service", "topic", "partition"], registry=r,
        )
        self.commits = Counter(
            "mimamori_offset_commits", "Offset commits, by result", ["service", "result"],
            registry=r,
        )
        self.errors = Counter(
            "mimamori_errors", "Errors handled by the processing loop, by kind",
            ["service", "kind"], registry=r,
        )
        self.up = Gauge(
            "mimamori_broker_connected",
            "1 while the broker answers this service, 0 while it cannot be reached",
            ["service"], registry=r,
        )
        self.unreachable_seconds = Counter(
            "mimamori_broker_unreachable_seconds", "Time spent unable to reach the broker",
            ["service"], registry=r,
        )

    def bind(self, service: str) -> ServiceMetrics:
        """The loop metrics of one service, labels resolved once."""
        return ServiceMetrics(self, service)


class ServiceMetrics:
    """`LoopMetrics` with the `service` label bound; per-batch label lookups stay cheap."""

    def __init__(self, families: LoopMetrics, service: str) -> None:
        self.service = service
        self.families = families
        self.record_seconds = families.record_seconds.labels(service)
        self.batch_seconds = families.batch_seconds.labels(service)
        self.batch_records = families.batch_records.labels(service)
        self.in_flight = families.in_flight.labels(service)
        self.last_processed = families.last_processed.labels(service)
        self.up = families.up.labels(service)
        self.unreachable_seconds = families.unreachable_seconds.labels(service)
        for result in ("ok", "rebalanced", "failed", "stuck"):
            families.commits.labels(service, result)
        for kind in ("fetch", "produce", "process"):
            families.errors.labels(service, kind)

    def consumed(self, topic: str, n: int) -> None:
        """Count `n` committed records of `topic`."""
        self.families.records_consumed.labels(self.service, topic).inc(n)

    def produced(self, topic: str, n: int) -> None:
        """Count `n` acknowledged outputs to `topic`."""
        self.families.outputs.labels(self.service, topic).inc(n)

    def dead_lettered(self, reason: str, n: int = 1) -> None:
        """Count `n` records sent to a DLQ for `reason`."""
        self.families.dlq.labels(self.service, reason).inc(n)

    def commit(self, result: str) -> None:
        """Count one offset commit by result."""
        self.families.commits.labels(self.service, result).inc()

    def error(self, kind: str) -> None:
        """Count one handled error by kind."""
        self.families.errors.labels(self.service, kind).inc()

    def set_lag(self, topic: str, partition: int, lag: int) -> None:
        """Records between the committed offset and the high watermark of one partition."""
        self.families.lag.labels(self.service, topic, str(partition)).set(lag)

    def forget_lag(self, topic: str, partition: int) -> None:
        """Drop the lag series of a partition this service no longer owns."""
        with contextlib.suppress(KeyError):
            self.families.lag.remove(self.service, topic, str(partition))


class FilterMetrics:
    """The filter's own metric families: verdicts, hits, reports and the wordlists."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.verdicts = Counter(
            "mimamori_verdicts", "Posts and reports judged (committed), by outcome",
            ["outcome"], registry=r,
        )
        self.hits = Counter(
            "mimamori_hits", "Surviving hits in committed posts and reported posts, by mode "
            "and category", ["mode", "category"], registry=r,
        )
        self.reports = Counter(
            "mimamori_reports", "User reports judged (committed), by report category",
            ["category"], registry=r,
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
        self.wordlist_reloads = Counter(
            "mimamori_wordlist_reloads", "Wordlist hot reloads, by result (ok, error)",
            ["result"], registry=r,
        )
        self.wordlist_info = Info(
            "mimamori_wordlist", "Version of the wordlists in use", registry=r
        )


def register_process(registry: CollectorRegistry) -> None:
    """Build information and the process's CPU, memory and open files, on `registry`."""
    Info("mimamori_build", "Version of mimamori and Python", registry=registry).info(
        {"version": pipeline.__version__, "python": platform.python_version()}
    )
    ProcessCollector(namespace="mimamori", registry=registry)


class Metrics:
    """The metrics of one process: the loop families, the filter's, and the process's own.

    Other services of the same process (the enforcer, the console) add their families to
    `registry` and bind `loop` to their service name.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        register_process(self.registry)
        self.loop = LoopMetrics(self.registry)
        self.filter = FilterMetrics(self.registry)

    def serve(self, host: str, port: int,
              ready: Callable[[], tuple[bool, str]] | None = None) -> int:
        """`serve(self.registry, ...)`."""
        return serve(self.registry, host, port, ready)


def serve(registry: CollectorRegistry, host: str, port: int,
          ready: Callable[[], tuple[bool, str]] | None = None) -> int:
    """Serve `/metrics` (and `/ready`, 200 or 503 with the reason) from a background thread.

    Port 0 means no endpoint. Returns the port served (0 when none).

    Raises:
        ConfigError: the port cannot be bound (taken by another process, say), naming the
            setting to change.
    """
    if not port:
        return 0
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/ready":
            ok, reason = ready() if ready is not None else (True, "ok")
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "text/plain; charset=utf-8")])
            return [reason.encode() + b"\n"]
        body: Iterable[bytes] = metrics_app(environ, start_response)
        return body

    try:
        server = make_server(host, port, app, _ThreadingServer, handler_class=_QuietHandler)
    except OSError as exc:
        raise ConfigError(
            f"metrics.port: cannot serve /metrics on {host}:{port} ({exc.strerror}); another "
            "process (a second worker?) may hold it: give each process its own port with "
            "--metrics-port PORT or MIMAMORI_METRICS_PORT, or 0 to turn the endpoint off"
        ) from None
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return port


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""
