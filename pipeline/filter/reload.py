"""Hot reload of wordlists in a running worker (I/O shell).

Every `wordlists.reload_interval_ms` (or at once on SIGHUP) the reloader fingerprints the list
directory (names, sizes, modification times). When it changed, the lists are loaded and the
automaton built in a thread, then the new filter core is swapped in between two batches: no
record is judged half by one list and half by another, and none is dropped. A list that fails
to load is reported (log with file, line and reason; `mimamori_wordlist_reloads_total{result=
"error"}`) and the loaded one is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import WordlistError
from pipeline.filter.judge import FilterCore
from pipeline.telemetry.metrics import Metrics

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(directory: Path) -> Fingerprint:
    """Names, sizes and modification times of the `*.tsv` files under `directory`."""
    try:
        files = sorted(p for p in directory.rglob("*.tsv") if p.is_file())
        return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    except OSError:
        return ()


class Reloader:
    """Watches the wordlist directory and swaps a new filter core into a worker."""

    def __init__(self, config: Config, metrics: Metrics,
                 build: Callable[[Config, Metrics], FilterCore],
                 install: Callable[[FilterCore], None]) -> None:
        self._config = config
        self._metrics = metrics
        self._build = build
        self._install = install
        self._directory = Path(config.wordlists.dir)
        self._seen = fingerprint(self._directory)
        self._wake = asyncio.Event()

    def request(self) -> None:
        """Check now (SIGHUP)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Check for changes until `stop` is set."""
        interval_s = self._config.wordlists.reload_interval_ms / 1000
        if not interval_s:
            return
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, self.request)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval_s)
            self._wake.clear()
            if not stop.is_set():
                await self.check()

    async def check(self) -> bool:
        """Reload if the lists changed; returns whether a new core was installed."""
        current = fingerprint(self._directory)
        if current == self._seen:
            return False
        self._seen = current
        started = time.perf_counter()
        try:
            core = await asyncio.to_thread(self._build, self._config, self._metrics)
        except WordlistError as exc:
            self._metrics.filter.wordlist_reloads.labels("error").inc()
            log.error("wordlist reload failed, keeping the loaded lists: %s", exc)
            return False
        self._install(core)
        self._metrics.filter.wordlist_reloads.labels("ok").inc()
        log.info("wordlists reloaded: version %s in %.3fs", core.version,
                 time.perf_counter() - started)
        return True
