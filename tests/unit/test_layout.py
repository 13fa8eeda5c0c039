"""The pure core imports no I/O stack, so it stays testable in microseconds."""

from __future__ import annotations

import subprocess
import sys

PURE = ["pipeline.contract.messages", "pipeline.contract.ids", "pipeline.text.normalize",
        "pipeline.text.wordlists", "pipeline.text.engines", "pipeline.text.matcher",
        "pipeline.text.detectors", "pipeline.filter.policy", "pipeline.filter.judge",
        "pipeline.config", "pipeline.errors", "pipeline.tools.dryrun", "pipeline.tools.scan",
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
