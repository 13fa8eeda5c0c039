"""Real mimamori processes for the integration tests and the benchmarks: start one configured
through `MIMAMORI_*` variables, and read its memory and CPU time from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.config import Config, to_environment

ROOT = Path(__file__).resolve().parents[1]


def spawn(args: list[str], config: Config, log_path: Path) -> subprocess.Popen[bytes]:
    """`python -m <args>` in the repository, configured with `config` through the environment
    (any other `MIMAMORI_*` variable removed), output appended to `log_path`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT,
                                env=env | to_environment(config), stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)


def process_rss(pid: int) -> int:
    """Resident set size of a process now."""
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
