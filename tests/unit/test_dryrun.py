"""Dry run of a candidate list set beside the active one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline.config import Config
from pipeline.contract.messages import Post
from pipeline.filter.judge import FilterCore
from pipeline.text.matcher import Matcher
from pipeline.text.wordlists import load_wordlists
from pipeline.tools.dryrun import Summary, compare, decode_posts
from pipeline.tools.sample import generate
from tests.cli import run_cli
from tests.unit.conftest import ROOT


def _candidate(tmp_path: Path) -> Path:
    directory = tmp_path / "candidate"
    shutil.copytree(ROOT / "wordlists", directory)
    ja = directory / "ja.tsv"
    lines = [line for line in ja.read_text().splitlines() if not line.startswith("うざい\t")]
    ja.write_text("\n".join(lines) + "\nおはよう\twatch\tspam\n")
    return directory


def test_compare_reports_new_and_dropped_hits(tmp_path: Path, default_core: FilterCore) -> None:
    candidate = FilterCore(Matcher(load_wordlists(_candidate(tmp_path))), Config())
    posts = [Post("a", "s", "u", "おはよう！", "t"), Post("b", "s", "u", "うざいんだけど", "t"),
             Post("c", "s", "u", "しね", "t"), Post("d", "s", "u", "こんにちは", "t")]
    summary = Summary()
    changes = list(compare(default_core, candidate, posts, summary))
    assert [(c.post_id, c.active, c.candidate) for c in changes] == [
        ("a", "clean", "review"), ("b", "review", "clean")]
    assert [h.term for h in changes[0].added] == ["おはよう"]
    assert [h.term for h in changes[1].removed] == ["うざい"]
    assert (summary.posts, summary.changed) == (4, 2)
    assert "newly hitting: 1; no longer hitting: 1" in summary.lines()


def test_invalid_lines_are_counted_not_compared() -> None:
    summary = Summary()
    good = (b'{"post_id":"a","site_id":"s","user_id":"u","text":"x",'
            b'"created_at":"2026-11-23T10:00:00Z"}')
    posts = list(decode_posts([b"nope", good], summary, max_bytes=1000, max_text_chars=100))
    assert [p.post_id for p in posts] == ["a"]
    assert summary.invalid == 1


def test_dry_run_command(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        '{"post_id":"a","site_id":"s","user_id":"u","text":"おはよう","created_at":"2026-11-23T10:00:00Z"}\n'
        '{"post_id":"c","site_id":"s","user_id":"u","text":"しね","created_at":"2026-11-23T10:00:00Z"}\n')
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "dry-run", "--wordlists", str(ROOT / "wordlists"),
         "--candidate", str(_candidate(tmp_path)), str(posts)],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert json.loads(line)["post_id"] == "a"
    assert "2 posts judged, 0 invalid lines skipped, 1 judged differently" in result.stderr


def _one_at_a_time(active: FilterCore, candidate: FilterCore,
                   posts: list[Post]) -> list[tuple[str, str, str, list[str], list[str]]]:
    """The dry run as it was before the batch path: each post judged alone by both sets."""
    out: list[tuple[str, str, str, list[str], list[str]]] = []
    for post in posts:
        a_verdict, a_hits = active.scan(post)
        c_verdict, c_hits = candidate.scan(post)
        if a_hits != c_hits:
            out.append((post.post_id, a_verdict, c_verdict,
                        [h.term for h in c_hits if h not in a_hits],
                        [h.term for h in a_hits if h not in c_hits]))
    return out


def test_batches_give_what_one_post_at_a_time_gives(tmp_path: Path,
                                                    default_core: FilterCore) -> None:
    candidate = FilterCore(Matcher(load_wordlists(_candidate(tmp_path))), Config())
    summary = Summary()
    values = [r.value for r in generate(400, seed=11, report_ratio=0.0, malformed=True)]
    values[5:5] = [b'{"post_id":"x1","site_id":"s","user_id":"u","text":"\xe3\x81\x86\xe3\x81'
                   b'\x96\xe3\x81\x84\xee\x80\x80\xe3\x81\x8a\xe3\x81\xaf\xe3\x82\x88\xe3\x81'
                   b'\x86","created_at":"2026-11-23T10:00:00Z"}']  # うざい, sentinel, おはよう
    posts = list(decode_posts(values, summary, max_bytes=1 << 16, max_text_chars=10_000))
    reference = _one_at_a_time(default_core, candidate, posts)
    assert reference[0] == ("x1", "review", "review", ["おはよう"], ["うざい"])
    assert len(reference) > 10
    calls: list[int] = []
    for batch in (1, 7, 2000):
        calls.clear()
        summary = Summary()
        changes = list(compare(default_core, candidate, posts, summary, batch_records=batch,
                               after_batch=lambda s: calls.append(s.posts)))
        assert [(c.post_id, c.active, c.candidate, [h.term for h in c.added],
                 [h.term for h in c.removed]) for c in changes] == reference
        assert (summary.posts, summary.changed) == (len(posts), len(reference))
        assert calls == [min(n, len(posts)) for n in range(batch, len(posts) + batch, batch)]


def test_dry_run_counts_an_overlong_line_as_invalid(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(
        '{"post_id":"a","site_id":"s","user_id":"u","text":"おはよう","created_at":"2026-11-23T10:00:00Z"}\r\n'.encode()
        + b"x" * 70_000 + b"\n" + b"nope\n")
    result = run_cli("dry-run", "--wordlists", str(ROOT / "wordlists"), "--candidate",
                     str(_candidate(tmp_path)), str(posts))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["post_id"] for line in result.stdout.splitlines()] == ["a"]
    assert b"1 posts judged, 2 invalid lines skipped, 1 judged differently" in result.stderr
