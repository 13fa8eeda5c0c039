"""Logging set-up: one format, and aiokafka's retry chatter rate-limited.

While a broker is unreachable, aiokafka logs every reconnect attempt (several lines every
`retry_backoff_ms`). The worker reports the outage itself (one warning, a gauge, `/ready`), so
repeats of the same aiokafka message are let through at most once per `interval_s`, with a
count of what was suppressed.
"""

from __future__ import annotations

import logging
import sys
import time


class RateLimit(logging.Filter):
    """Pass the same (logger, message template) at most once per `interval_s`."""

    def __init__(self, interval_s: float = 30.0) -> None:
        super().__init__()
        self._interval = interval_s
        self._seen: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        now = time.monotonic()
        last, suppressed = self._seen.get(key, (0.0, 0))
        if last and now - last < self._interval:
            self._seen[key] = (last, suppressed + 1)
            return False
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[key] = (now, 0)
        if suppressed:
            record.msg = f"{record.msg} ({suppressed} similar messages suppressed)"
        return True


def configure(level: str) -> None:
    """Log to stderr at `level`, with aiokafka's repeated messages rate-limited."""
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limiter = RateLimit()
    for handler in logging.getLogger().handlers:
        handler.addFilter(_OnlyFor("aiokafka", limiter))


class _OnlyFor(logging.Filter):
    """Apply `inner` to records of one logger tree only."""

    def __init__(self, prefix: str, inner: logging.Filter) -> None:
        super().__init__()
        self._prefix = prefix
        self._inner = inner

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == self._prefix or record.name.startswith(self._prefix + "."):
            return bool(self._inner.filter(record))
        return True
