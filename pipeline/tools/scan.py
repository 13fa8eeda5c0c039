"""The offline scan: Posts as JSON lines in, one verdict line out per input line, in order."""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import BinaryIO

from pipeline.config import WorkerConfig
from pipeline.contract.messages import ScanError, ScanResult, decode_post, encoder
from pipeline.errors import PoisonRecord
from pipeline.filter.judge import FilterCore


def scan_lines(
    core: FilterCore, lines: Iterable[bytes], out: BinaryIO, limits: WorkerConfig
) -> collections.Counter[str]:
    """Judge each line and write its verdict line; returns counts by verdict.

    A line that is not a valid Post (the same rules the workers apply before the DLQ) yields
    an `error` line and the scan goes on.
    """
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        raw = line.rstrip(b"\r\n")
        result: ScanResult | ScanError
        try:
            post = decode_post(raw, max_bytes=limits.max_record_bytes,
                               max_text_chars=limits.max_text_chars)
        except PoisonRecord as exc:
            result = ScanError(None, "error", f"{exc.reason}: {exc.message}")
        else:
            verdict, hits = core.scan(post)
            result = ScanResult(post.post_id, verdict, hits)
        counts[result.verdict] += 1
        out.write(encoder.encode(result))
        out.write(b"\n")
    return counts
