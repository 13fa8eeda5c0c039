"""The offline scan: Posts as JSON lines in, one verdict line out per input line, in order.

The scan takes the worker's batch path: lines are read a chunk at a time (at most
`worker.max_batch_records` lines or `CHUNK_BYTES` bytes), the valid posts of a chunk are judged
together by `FilterCore.hits_batch`, and the chunk's verdict lines are written in one call. So a
multi-gigabyte dump is scanned in memory bounded by one chunk, and a line longer than the record
limit is never held whole (`bounded_lines`).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from pipeline.config import WorkerConfig
from pipeline.contract.messages import (
    Post,
    ScanError,
    ScanResult,
    decode_post,
    encoder,
    oversized,
)
from pipeline.errors import PoisonRecord
from pipeline.filter.judge import FilterCore
from pipeline.filter.policy import verdict_of
from pipeline.tools.progress import Progress

# A chunk also ends once its lines hold this many bytes, so that posts much longer than usual
# do not make chunks of `max_batch_records` lines large.
CHUNK_BYTES = 4 << 20
# The verdicts of the scan's lines, in the order the progress line shows them.
VERDICTS = ("ng", "review", "clean", "error")
# The pieces in which the rest of an overlong line is read and dropped.
_SKIP_BYTES = 1 << 16


class Overlong:
    """Stands for a line longer than the record limit, read and dropped in pieces."""

    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        self.length = length  # bytes, without the line ending


def bounded_lines(stream: BinaryIO, max_bytes: int) -> Iterator[bytes | Overlong]:
    """The lines of `stream`, line endings kept. A line that does not fit in `max_bytes` + 2
    bytes comes as an `Overlong` with its length (line ending aside), never held in memory
    whole; shorter lines over the limit are left to `decode_post`, which says the same."""
    limit = max_bytes + 2  # room for "\r\n" after a line of exactly `max_bytes`
    readline = stream.readline
    while line := readline(limit):
        if len(line) < limit or line.endswith(b"\n"):
            yield line
            continue
        length, ending = 0, 0  # ending: the "\r" and "\n" at the end, which do not count
        while line:
            length += len(line)
            body = len(line.rstrip(b"\r\n"))
            ending = ending + len(line) if body == 0 else len(line) - body
            if line.endswith(b"\n"):
                break
            line = readline(_SKIP_BYTES)
        yield Overlong(length - ending)


def chunks(lines: Iterable[bytes | Overlong], max_lines: int,
           max_bytes: int = CHUNK_BYTES) -> Iterator[list[bytes | Overlong]]:
    """`lines` in lists of at most `max_lines` lines, each ending once it holds `max_bytes`."""
    chunk: list[bytes | Overlong] = []
    size = 0
    for line in lines:
        chunk.append(line)
        if type(line) is bytes:
            size += len(line)
        if len(chunk) >= max_lines or size >= max_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def judge_chunk(core: FilterCore, chunk: list[bytes | Overlong],
                limits: WorkerConfig) -> list[ScanResult | ScanError]:
    """The verdict of every line of `chunk`, in order: valid posts judged together."""
    results: list[ScanResult | ScanError | None] = []
    posts: list[Post] = []
    slots: list[int] = []
    max_bytes, max_chars = limits.max_record_bytes, limits.max_text_chars
    for line in chunk:
        try:
            if isinstance(line, Overlong):
                raise oversized(line.length, max_bytes)
            post = decode_post(line.rstrip(b"\r\n"), max_bytes=max_bytes,
                               max_text_chars=max_chars)
        except PoisonRecord as exc:
            results.append(ScanError(None, "error", f"{exc.reason}: {exc.message}"))
            continue
        slots.append(len(results))
        results.append(None)
        posts.append(post)
    found = core.hits_batch([post.text for post in posts], [post.site_id for post in posts])
    for slot, post, hits in zip(slots, posts, found, strict=True):
        results[slot] = ScanResult(post.post_id, verdict_of(hits) if hits else "clean", hits)
    return results  # type: ignore[return-value]  # every slot is filled


def scan_lines(core: FilterCore, lines: Iterable[bytes | Overlong], out: BinaryIO,
               limits: WorkerConfig, progress: Progress | None = None
               ) -> collections.Counter[str]:
    """Judge each line and write its verdict line; returns counts by verdict.

    A line that is not a valid Post (the same rules the workers apply before the DLQ) yields
    an `error` line and the scan goes on. Lines are judged a chunk at a time on the worker's
    batch path; the output is the same as judging them one by one (`FilterCore.scan`).
    """
    counts: collections.Counter[str] = collections.Counter()
    encode_lines = encoder.encode_lines
    for chunk in chunks(lines, limits.max_batch_records):
        results = judge_chunk(core, chunk, limits)
        counts.update(r.verdict for r in results)
        out.write(encode_lines(results))
        if progress is not None:
            progress.update(sum(counts.values()), counts)
    if progress is not None:
        progress.finish(sum(counts.values()), counts)
    return counts
