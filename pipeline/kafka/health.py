"""Broker reachability as one worker sees it (I/O shell helper).

Turns individual successes and failures into a state: the `mimamori_broker_connected` gauge,
one warning when the broker becomes unreachable (repeated every `log_every_s` while it stays
so, never per retry), one info line when it is back, and an exponential retry backoff.
"""

from __future__ import annotations

import logging
import time

from pipeline.telemetry.metrics import ServiceMetrics

log = logging.getLogger(__name__)


class BrokerHealth:
    """Reachability state with backoff and rate-limited reporting."""

    def __init__(self, metrics: ServiceMetrics, base_backoff_s: float, max_backoff_s: float,
                 log_every_s: float = 30.0) -> None:
        self._metrics = metrics
        self._base = base_backoff_s
        self._max = max_backoff_s
        self._log_every = log_every_s
        self.connected = True
        self.failures = 0
        self._down_since = 0.0
        self._last_log = 0.0
        self._last_mark = 0.0
        metrics.up.set(1)

    def ok(self) -> None:
        """The broker answered."""
        if not self.connected:
            now = time.monotonic()
            self._metrics.unreachable_seconds.inc(now - self._last_mark)
            log.info("broker reachable again after %.1fs", now - self._down_since)
        self.connected = True
        self.failures = 0
        self._metrics.up.set(1)

    def failed(self, what: str, exc: BaseException) -> float:
        """The broker did not answer; returns how long to wait before the next try."""
        now = time.monotonic()
        self.failures += 1
        if self.connected:
            self.connected = False
            self._down_since = self._last_log = self._last_mark = now
            log.warning("broker unreachable (%s: %s); retrying with backoff", what, exc or
                        type(exc).__name__)
        else:
            self._metrics.unreachable_seconds.inc(now - self._last_mark)
            self._last_mark = now
            if now - self._last_log >= self._log_every:
                self._last_log = now
                log.warning("broker still unreachable after %.0fs (%s)", now - self._down_since,
                            what)
        self._metrics.up.set(0)
        return min(self._max, self._base * 2.0 ** (self.failures - 1))

    def describe(self) -> str:
        """For `/ready`."""
        if self.connected:
            return "ok"
        return f"broker unreachable for {time.monotonic() - self._down_since:.0f}s"
