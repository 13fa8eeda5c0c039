"""Running `mimamori` commands in the test process, as the CLI tests and the operator-command
integration tests do."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from typing import NamedTuple
from unittest import mock

from pipeline.cli import main


class Ran(NamedTuple):
    """What a command returned and wrote."""

    returncode: int
    stdout: bytes
    stderr: bytes


def run_cli(*args: str, stdin: bytes = b"", env: Mapping[str, str] | None = None) -> Ran:
    """`mimamori ARGS` in this process (`cli.main`), with its standard streams captured and
    `MIMAMORI_*` variables set to `env` (any others removed)."""
    streams = [io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", write_through=True)
               for data in (stdin, b"", b"")]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        with mock.patch.dict(os.environ, {**environ, **(env or {})}, clear=True):
            code = main(list(args))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    out, err = (s.buffer.getvalue() for s in streams[1:])
    return Ran(code, out, err)
