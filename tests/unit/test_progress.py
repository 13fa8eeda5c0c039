"""The progress line of the long offline runs, on a fake clock."""

from __future__ import annotations

import io

from pipeline.config import WorkerConfig
from pipeline.filter.judge import FilterCore
from pipeline.tools.progress import Progress
from pipeline.tools.scan import VERDICTS, scan_lines
from tests.cli import run_cli
from tests.unit.conftest import ROOT


class Clock:
    """Seconds that move only when told, or by `step` at each reading."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 100.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_plain_lines_once_per_interval() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, "scan", ("ng", "clean"), tty=False, clock=clock)
    clock.now += 9.9
    progress.update(500, {"clean": 500})
    assert stream.getvalue() == ""  # before the first 10 s: nothing
    clock.now += 0.1
    progress.update(1_000, {"ng": 1, "clean": 999})
    clock.now += 5
    progress.update(2_000, {"ng": 2, "clean": 1_998})  # within the next interval: nothing
    clock.now += 5
    progress.update(3_000, {"ng": 3, "clean": 2_997})
    clock.now += 4
    progress.finish(4_200, {"ng": 4, "clean": 4_196})
    assert stream.getvalue() == (
        "scan: 1,000 lines in 10 s (100/s): ng 1, clean 999\n"
        "scan: 3,000 lines in 20 s (150/s): ng 3, clean 2,997\n"
        "scan: 4,200 lines in 24 s (175/s): ng 4, clean 4,196\n")


def test_a_terminal_line_is_rewritten_in_place_and_ended() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, "scan", ("ng",), tty=True, clock=clock)
    clock.now += 1
    progress.update(12_000, {"ng": 7})
    clock.now += 1
    progress.update(14_000, {})
    clock.now += 0.5
    progress.finish(15_000, {"ng": 9})
    assert stream.getvalue() == (
        "\rscan: 12,000 lines in 1 s (12,000/s): ng 7"
        "\rscan: 14,000 lines in 2 s (7,000/s): ng 0 "  # blanks what the longer line left
        "\rscan: 15,000 lines in 2 s (6,000/s): ng 9\n")


def test_a_short_run_shows_nothing() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, "scan", ("ng",), tty=True, clock=clock)
    clock.now += 0.9
    progress.update(10, {"ng": 1})
    progress.finish(20, {"ng": 2})
    assert stream.getvalue() == ""
    assert progress.shown == 0


def test_the_interval_follows_the_stream() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream, clock = Terminal(), Clock()
    progress = Progress(stream, "scan", (), clock=clock)
    clock.now += 1
    progress.update(1, {})
    assert stream.getvalue().startswith("\r")
    plain, clock = io.StringIO(), Clock()
    progress = Progress(plain, "scan", (), clock=clock)
    clock.now += 9
    progress.update(1, {})
    assert plain.getvalue() == ""


def test_scan_reports_once_per_chunk(default_core: FilterCore) -> None:
    lines = [b'{"post_id":"p%d","site_id":"s","user_id":"u","text":"hello",'
             b'"created_at":"2026-11-23T10:00:00Z"}\n' % i for i in range(5)] + [b"x\n"]
    stream = io.StringIO()
    clock = Clock(step=4.0)  # each reading of the clock (one per chunk) is 4 s later
    progress = Progress(stream, "scan", VERDICTS, tty=False, interval_s=10, clock=clock)
    scan_lines(default_core, lines, io.BytesIO(), WorkerConfig(max_batch_records=2), progress)
    # Readings: start 104 (first due 114); chunks at 108, 112, 116 (shown); finish at 120.
    assert stream.getvalue() == (
        "scan: 6 lines in 12 s (0/s): ng 0, review 0, clean 5, error 1\n"
        "scan: 6 lines in 16 s (0/s): ng 0, review 0, clean 5, error 1\n")


def test_no_progress_flag_and_quiet_short_runs() -> None:
    line = (b'{"post_id":"a","site_id":"s","user_id":"u","text":"hello",'
            b'"created_at":"2026-11-23T10:00:00Z"}\n')
    for flag in ("--progress", "--no-progress"):
        result = run_cli("scan", "--wordlists", str(ROOT / "wordlists"), flag, "-", stdin=line)
        assert result.returncode == 0, result.stderr
        assert b"scan: " not in result.stderr
        assert result.stdout == b'{"post_id":"a","verdict":"clean","hits":[]}\n'
