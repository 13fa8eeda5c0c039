"""The offline scan and the command line, as an operator runs them."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import build_parser
from pipeline.config import WorkerConfig
from pipeline.filter.judge import FilterCore
from pipeline.tools.scan import scan_lines
from tests.cli import run_cli
from tests.unit.conftest import ROOT, write_list

LINES = [
    b'{"post_id":"a","site_id":"s","user_id":"u","text":"\xe3\x81\x8a\xe5\x89\x8d\xe3\x81\x97'
    b'\xe3\x81\xad","created_at":"2026-11-23T10:00:00Z"}',
    b'{"post_id":"b","site_id":"s","user_id":"u","text":"call 090-1234-5678",'
    b'"created_at":"2026-11-23T10:00:00Z"}',
    b'{"post_id":"c","site_id":"s","user_id":"u","text":"hello","created_at":"2026-11-23T10:00:00Z"}',
    b"not json",
    b'{"post_id":"d","site_id":"s","user_id":"u","text":"","created_at":"2026-11-23T10:00:00Z"}',
    b"",
]


def test_scan_one_line_out_per_line_in_order(default_core: FilterCore) -> None:
    out = io.BytesIO()
    counts = scan_lines(default_core, [line + b"\n" for line in LINES], out, WorkerConfig())
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["post_id"], r["verdict"]) for r in results] == [
        ("a", "ng"), ("b", "review"), ("c", "clean"), (None, "error"), (None, "error"),
        (None, "error"),
    ]
    assert results[0]["hits"] == [
        {"term": "しね", "mode": "ng", "category": "abuse", "start": 2, "end": 4}]
    assert results[1]["hits"][0]["category"] == "contact"
    assert results[2] == {"post_id": "c", "verdict": "clean", "hits": []}
    assert results[3]["error"].startswith("invalid_json: ")
    assert results[4]["error"] == "empty_text: post text is empty"
    assert set(results[3]) == {"post_id", "verdict", "error"}
    assert counts == {"ng": 1, "review": 1, "clean": 1, "error": 3}


def test_the_installed_entry_point_runs_the_same_command_line() -> None:
    """`python -m pipeline` (and the console script) go through `cli.entry`."""
    result = subprocess.run([sys.executable, "-m", "pipeline", "scan", "--wordlists",
                             str(ROOT / "wordlists"), "-"], input=LINES[0] + b"\n", cwd=ROOT,
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "ng"


@pytest.mark.parametrize(("command", "kafka"), [("scan", False), ("run", True)])
def test_only_commands_that_talk_to_kafka_load_a_kafka_client(command: str,
                                                               kafka: bool) -> None:
    """The scan starts without aiokafka and uvloop (start-up is part of a scan's cost); a
    Kafka command gets aiokafka with the uvloop fix installed before it runs."""
    probe = ("import sys\nfrom pipeline.cli import entry\nsys.argv = ['mimamori', sys.argv[1], "
             "'--help']\ntry:\n    entry()\nexcept SystemExit:\n    pass\n"
             "print('aiokafka' in sys.modules, 'uvloop' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe, command], cwd=ROOT,
                            capture_output=True, timeout=60, check=False)
    assert result.stderr.decode().split() == [str(kafka), "False"]


def test_scan_command_reads_stdin() -> None:
    result = run_cli("scan", "--wordlists", str(ROOT / "wordlists"), "-",
                     stdin=b"\n".join(LINES[:3]) + b"\n")
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line)["verdict"] for line in result.stdout.splitlines()]
    assert verdicts == ["ng", "review", "clean"]


def test_scan_command_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(b"\n".join(LINES[:4]) + b"\n")
    result = run_cli("scan", "--wordlists", str(ROOT / "wordlists"), str(path))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 4


def test_every_command_has_help() -> None:
    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands: dict[str, argparse.ArgumentParser] = sub.choices
    assert {"run", "scan", "broker", "check-config", "check-wordlists", "demo",
            "create-topics", "console", "users"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as info:
            parser.parse_args([name, "--help"])
        assert info.value.code == 0


def test_contract_flags_parse() -> None:
    parser = build_parser()
    args = parser.parse_args(["run", "--bootstrap-servers", "h:1", "--wordlists", "w",
                              "--config", "c.toml"])
    assert (args.bootstrap_servers, args.wordlists, args.config) == ("h:1", "w", "c.toml")
    assert parser.parse_args(["broker", "--port", "19092"]).port == 19092


def test_check_wordlists_reports_file_line_reason(tmp_path: Path) -> None:
    write_list(tmp_path, "bad.tsv", "しね\tng\tabuse\t\t\nx\tnope\tabuse\t\t\n")
    result = run_cli("check-wordlists", "--wordlists", str(tmp_path))
    assert result.returncode == 2
    assert f"{tmp_path / 'bad.tsv'}:3: mode 'nope'" in result.stderr.decode()


def test_check_wordlists_ok() -> None:
    result = run_cli("check-wordlists", "--wordlists", str(ROOT / "wordlists"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("ok: ")


def test_check_config_shows_effective_values() -> None:
    result = run_cli("check-config", "--bootstrap-servers", "kafka:9092")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kafka"]["bootstrap_servers"] == "kafka:9092"


def test_check_config_rejects_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[worker]\nmax_batch_records = -1\n")
    result = run_cli("check-config", "--config", str(path))
    assert result.returncode == 2
    assert "[worker] max_batch_records: Expected `int` >= 1" in result.stderr.decode()
