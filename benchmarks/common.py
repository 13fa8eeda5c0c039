"""Shared helpers for the benchmarks: synthetic wordlists, the machine, results files."""

from __future__ import annotations

import asyncio
import os
import platform
import random
import resource
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition

from pipeline.config import Config
from pipeline.filter.worker import FilterWorker
from pipeline.text.normalize import term_form
from pipeline.text.wordlists import Entry, EntryMode, Wordlist, is_latin_term, load_wordlists
from pipeline.tools.sample import SampleRecord

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

HIRAGANA = [chr(c) for c in range(0x3041, 0x3094)]
_KANJI = list("日本人大中小上下山川田口目耳手足心体力気金土木水火月年時分間前後左右東西南北"
              "学校先生友家族話言語読書見聞会社店電車駅道町村国外内新古高安長短早遅明暗強弱"
              "愛恋夢花雪雨風空海星光音楽歌声色白黒赤青緑春夏秋冬朝昼夜今昔何誰私彼女子供")
_LATIN = "abcdefghijklmnopqrstuvwxyz"


def synthetic_wordlist(size: int, seed: int = 1, dense: bool = False) -> Wordlist:
    """The shipped lists plus synthetic entries up to `size`, 70% watch, 30% ng.

    Realistic (the default): kana words of 4-7 letters, kanji compounds of 3-5 characters and
    Latin words of 5-9 letters, none written with a doubled letter. Like the long tail of a
    real list (names, slang spellings, spam domains), they seldom occur in ordinary posts by
    chance. `dense` draws 3-7 kana, 2-4 kanji and 4-9 Latin letters with doubles allowed: short
    kanji compounds over a small alphabet then match 10-15% of ordinary posts, and a doubled
    letter collapses to a one-letter key that only the repeated-letter check rejects. That is
    the stress case for the per-post tracking path, not a list anyone would write.
    """
    rng = random.Random(seed)
    shipped = load_wordlists(ROOT / "wordlists")
    entries: list[Entry] = list(shipped.entries)
    seen = {e.normalized for e in entries}
    kana, kanji, latin = ((3, 7), (2, 4), (4, 9)) if dense else ((4, 7), (3, 5), (5, 9))
    while len(entries) < size:
        kind = rng.random()
        if kind < 0.45:
            term = "".join(rng.choice(HIRAGANA) for _ in range(rng.randint(*kana)))
        elif kind < 0.85:
            term = "".join(rng.choice(_KANJI) for _ in range(rng.randint(*kanji)))
        else:
            term = "".join(rng.choice(_LATIN) for _ in range(rng.randint(*latin)))
        form = term_form(term)
        normalized = form.match
        if not normalized or normalized in seen:
            continue
        if not dense and (any(r > 1 for r in form.runs) or len(normalized) < len(term)):
            continue
        seen.add(normalized)
        mode: EntryMode = "ng" if rng.random() < 0.3 else "watch"
        entries.append(Entry(term, normalized, form.runs, form.gaps, mode,
                             "synthetic", None, None, is_latin_term(normalized), (),
                             "synthetic", len(entries)))
    # The shipped rules with context come along: the filter core evaluates them on every
    # post whose text has a rule part or passes the detectors' trigger, as in production.
    return Wordlist(tuple(entries), f"synthetic-{size}{'-dense' if dense else ''}",
                    ("synthetic",), rules=shipped.rules, parts=shipped.parts)


def write_wordlist_dir(size: int, directory: Path, dense: bool = False) -> Path:
    """`synthetic_wordlist(size)` as files: the shipped lists plus `synthetic.tsv`, so that
    loading goes through the same parser and checks as in production."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "wordlists").glob("*.tsv"):
        shutil.copy(path, directory / path.name)
    lines = ["term\tmode\tcategory\tnote"]
    lines += [f"{e.term}\t{e.mode}\t{e.category}\t"
              for e in synthetic_wordlist(size, dense=dense).entries if e.path == "synthetic"]
    (directory / "synthetic.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


async def produce_all(bootstrap: str,
                      records: Iterable[tuple[str, bytes | None, bytes | None]]) -> int:
    """Produce `(topic, key, value)` records as fast as the broker takes them (acks from all,
    at most 20,000 in flight); returns how many."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                max_batch_size=1 << 20, max_request_size=1 << 21)
    await producer.start()
    count = 0
    try:
        pending = []
        for topic, key, value in records:
            pending.append(await producer.send(topic, value, key=key))
            count += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return count


def tail(log_path: Path, chars: int = 3000) -> str:
    """The end of a process log, for error messages."""
    return log_path.read_text(errors="replace")[-chars:] if log_path.exists() else ""


def http_status(url: str) -> int:
    """The HTTP status of a GET, 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def machine() -> str:
    """One line naming the machine the numbers come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True, check=False).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}, "
            f"commit {commit or 'uncommitted'}")


def machine_load() -> str:
    """The machine's 1-minute load average and CPU pressure (share of the last minute some
    task waited for a CPU): this 2-core machine is shared, and the numbers mean little
    without it."""
    load = os.getloadavg()[0]
    pressure = "?"
    try:
        with open("/proc/pressure/cpu") as fh:
            pressure = fh.readline().split()[2].split("=")[1] + "%"
    except (OSError, IndexError):
        pass
    return f"{load:.1f}, {pressure}"


def write_section(title: str, body: str) -> None:
    """Replace (or add) the `## title` section of RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    marker = f"## {title}\n"
    section = marker + body.rstrip() + "\n"
    if marker in text:
        before, _, rest = text.partition(marker)
        after = rest[rest.find("\n## "):] if "\n## " in rest else ""
        text = before + section + after.lstrip("\n")
        text = text.replace(section + "## ", section + "\n## ")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


def publish(title: str, body: str, *, write: bool) -> None:
    """Print a benchmark's section, and record it in RESULTS.md unless `write` is false
    (`--no-write`)."""
    print(body)
    if write:
        write_section(title, body)


Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


def best_seconds(runs: int, fn: Callable[[], object]) -> float:
    """The shortest wall time of `runs` calls of `fn`."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def judge_throughput(worker: FilterWorker, batches: list[Batch], runs: int) -> float:
    """Records per second through `FilterWorker.judge` (decode, normalize, match, decide,
    build outputs), the worker's whole per-batch CPU path without Kafka; best of `runs`."""
    total = sum(len(records) for batch in batches for records in batch.values())
    dlq = worker.loop.dead_letters
    return total / best_seconds(runs, lambda: [worker.judge(batch, dlq) for batch in batches])


def record_batches(records: list[SampleRecord], config: Config, batch_records: int) -> list[Batch]:
    """Sample records as the worker receives them: batches of ConsumerRecords by partition."""
    topic = {"posts": config.topics.posts, "reports": config.topics.reports}
    batches = []
    for start in range(0, len(records), batch_records):
        batch: Batch = {}
        for offset, r in enumerate(records[start:start + batch_records], start=start):
            tp = TopicPartition(topic[r.topic_kind], hash(r.key) % config.topics.partitions)
            batch.setdefault(tp, []).append(ConsumerRecord(
                tp.topic, tp.partition, offset, 0, 0, r.key, r.value, None, len(r.value),
                len(r.key), []))
        batches.append(batch)
    return batches
