"""The plain versions the fast paths replaced, kept as references: tests check the fast path
gives the same output, benchmarks measure it against them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from pipeline.config import WorkerConfig
from pipeline.contract.messages import ScanError, ScanResult, decode_post, encoder
from pipeline.errors import PoisonRecord
from pipeline.filter.judge import FilterCore


def scan_one_at_a_time(core: FilterCore, lines: Iterable[bytes], limits: WorkerConfig,
                       out: BinaryIO) -> None:
    """The offline scan before the batch path (`scan_lines` up to 86f2dbe): each line
    decoded, judged and written alone."""
    for line in lines:
        result: ScanResult | ScanError
        try:
            post = decode_post(line.rstrip(b"\r\n"), max_bytes=limits.max_record_bytes,
                               max_text_chars=limits.max_text_chars)
        except PoisonRecord as exc:
            result = ScanError(None, "error", f"{exc.reason}: {exc.message}")
        else:
            verdict, hits = core.scan(post)
            result = ScanResult(post.post_id, verdict, hits)
        out.write(encoder.encode(result) + b"\n")
