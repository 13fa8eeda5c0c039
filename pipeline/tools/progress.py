"""A progress line on stderr for the long offline runs (scan, dry run)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TextIO

TTY_INTERVAL_S = 1.0
PLAIN_INTERVAL_S = 10.0


class Progress:
    """Shows lines done, their rate and counts, once per interval; nothing for a run shorter
    than one interval.

    On a terminal the line is rewritten in place (`\\r`) and ended when the run finishes; on
    anything else (a log file, a pipe to a job's log) each report is a line of its own, less
    often. The caller reports after each chunk, not after each line, so the clock is read
    once per chunk.
    """

    def __init__(self, stream: TextIO, label: str, keys: tuple[str, ...], *,
                 tty: bool | None = None, interval_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._label = label
        self._keys = keys
        self._tty = stream.isatty() if tty is None else tty
        self._interval_s = interval_s if interval_s is not None else (
            TTY_INTERVAL_S if self._tty else PLAIN_INTERVAL_S)
        self._clock = clock
        self._started = clock()
        self._due = self._started + self._interval_s
        self._width = 0  # of the line on screen, to blank what a shorter one leaves
        self.shown = 0

    def update(self, done: int, counts: Mapping[str, int]) -> None:
        """Report `done` lines and `counts` if an interval has passed since the last report."""
        now = self._clock()
        if now < self._due:
            return
        self._due = now + self._interval_s
        self._show(done, counts, now, final=False)

    def finish(self, done: int, counts: Mapping[str, int]) -> None:
        """The last report, only when an earlier one was shown (a short run stays quiet)."""
        if self.shown:
            self._show(done, counts, self._clock(), final=True)

    def _show(self, done: int, counts: Mapping[str, int], now: float, *, final: bool) -> None:
        elapsed = now - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = ", ".join(f"{key} {counts.get(key, 0):,}" for key in self._keys)
        line = f"{self._label}: {done:,} lines in {elapsed:,.0f} s ({rate:,.0f}/s): {parts}"
        if self._tty:
            padded = line.ljust(self._width)
            self._width = len(line)
            self._stream.write("\r" + padded + ("\n" if final else ""))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
        self.shown += 1
