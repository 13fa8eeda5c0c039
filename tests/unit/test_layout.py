"""The pure core imports no I/O stack, so it stays testable in microseconds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PURE = ["pipeline.contract.messages", "pipeline.contract.ids", "pipeline.text.normalize",
        "pipeline.text.wordlists", "pipeline.text.engines", "pipeline.text.matcher",
        "pipeline.text.detectors", "pipeline.text.evidence", "pipeline.text.confusables",
        "pipeline.text.rules", "pipeline.filter.policy", "pipeline.filter.outcomes",
        "pipeline.filter.judge", "pipeline.config", "pipeline.errors", "pipeline.tools.dryrun",
        "pipeline.tools.scan", "pipeline.enforcer.settings", "pipeline.enforcer.ladder",
        "pipeline.enforcer.ledger", "pipeline.enforcer.rules", "pipeline.enforcer.history",
        "pipeline.enforcer.events",
        "pipeline.console.settings", "pipeline.console.cases", "pipeline.console.roles",
        "pipeline.console.i18n"]
IO_STACK = ["aiokafka", "prometheus_client", "uvloop", "asyncio", "socket", "sqlite3",
            "sqlalchemy", "starlette", "uvicorn", "http.server", "urllib.request"]


def test_pure_core_imports_no_io() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in PURE)
        + f"print(sorted(m for m in {IO_STACK!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_tests_never_import_the_benchmarks() -> None:
    """Shared helpers live in tests/ (processes, tables, evaluation); benchmarks import them,
    never the other way round."""
    tests = Path(__file__).resolve().parents[1]
    offenders = [str(path.relative_to(tests)) for path in tests.rglob("*.py")
                 if re.search(r"^\s*(from|import) benchmarks\b", path.read_text(), re.M)]
    assert offenders == []
