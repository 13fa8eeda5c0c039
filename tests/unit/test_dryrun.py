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
