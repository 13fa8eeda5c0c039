"""Reading the golden tables in tests/data/."""

from __future__ import annotations

import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\([tn])")
_CONTROL = {"t": "\t", "n": "\n"}


def unescape(text: str) -> str:
    """Turn a table's `\\uXXXX`, `\\t` and `\\n` escapes into the characters they name."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else _CONTROL[m.group(2)],
                       text)


def read_table(name: str) -> list[list[str]]:
    """The rows of a TSV table, comments and the header row skipped."""
    rows = []
    header_seen = False
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            continue
        rows.append(line.split("\t"))
    return rows
