"""Runs one benchmark command at several commits in interleaved rounds and compares them.

    .venv/bin/python -m benchmarks.compare_commits --commits 7abd62d,0a1da9e,HEAD --rounds 10 \
        --metric 'core=daachorse .* core +([0-9,.]+) records/s' \
        -- python -m benchmarks.engines --posts 20000 --sizes 10000 --runs 1 --no-write

Each commit gets a detached git worktree (`<trees>/wt-bench-<sha>`, made with `git worktree add`
unless it exists, removed at the end only if made here; `scripts/setup.sh` runs in it) and runs
its own benchmark code with its own virtualenv: a leading `python` in the command becomes the
tree's `.venv/bin/python`. Each round runs every commit once in the order given (A B C, A B C,
...), so a slow spell of the shared machine lowers one sample of each commit, not all samples
of one. Every `--metric NAME=REGEX` is read from the command's output (the first group, commas
dropped). The command must not write into the tree (pass the benchmark's `--no-write`).

Printed at the end, as Markdown: each round's value per commit and its ratio to the first
commit in that round, the 1-minute load average when each run started, and the best and the
median of all rounds per commit with their ratios to the first commit's (higher is better,
unless the metric is named in `--lower`).
Nothing is written to RESULTS.md: the tables are meant to be pasted with a reading.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import ROOT


@dataclass
class Tree:
    """One commit's worktree and what its runs measured."""

    label: str
    sha: str
    path: Path
    made_here: bool
    values: dict[str, list[float]] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def prepare(label: str, trees: Path, setup: str) -> Tree:
    """Returns the worktree of `label` (a commit-ish), creating and setting it up if missing."""
    sha = _git("rev-parse", "--short=7", f"{label}^{{commit}}")
    path = trees / f"wt-bench-{sha}"
    made = not path.exists()
    if made:
        _git("worktree", "add", "--detach", str(path), sha)
    subprocess.run(["bash", "scripts/setup.sh", *([setup] if setup else [])], cwd=path,
                   check=True)
    return Tree(label, sha, path, made)


def run_once(tree: Tree, command: list[str], metrics: dict[str, re.Pattern[str]]) -> None:
    """Runs the command in the tree and appends every metric it printed."""
    argv = [str(tree.path / ".venv/bin/python") if command[0] == "python" else command[0],
            *command[1:]]
    tree.loads.append(os.getloadavg()[0])
    done = subprocess.run(argv, cwd=tree.path, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{tree.sha}: {' '.join(command)} failed ({done.returncode}):\n"
                 f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    for name, pattern in metrics.items():
        found = pattern.search(done.stdout)
        if found is None:
            sys.exit(f"{tree.sha}: no {name} ({pattern.pattern}) in:\n{done.stdout[-2000:]}")
        tree.values.setdefault(name, []).append(float(found.group(1).replace(",", "")))


def tables(trees: list[Tree], metric: str, lower: bool) -> str:
    """Markdown: per-round values and ratios to the first commit, then best and median of each
    (best is the lowest when `lower`)."""
    base = trees[0]
    head = "| round | " + " | ".join(
        f"{t.sha}" + ("" if t is base else f" | {t.sha} / {base.sha}") for t in trees) + \
        " | load (1 min) at each start |"
    cols = 1 + sum(1 if t is base else 2 for t in trees) + 1
    digits = 0 if min(min(t.values[metric]) for t in trees) >= 100 else 2
    lines = [f"{metric}{' (lower is better)' if lower else ''}:", "", head,
             "| ---: " * (cols - 1) + "| --- |"]
    for i, first in enumerate(base.values[metric]):
        cells = [f"{i + 1}"]
        for t in trees:
            value = t.values[metric][i]
            cells.append(f"{value:,.{digits}f}")
            if t is not base:
                cells.append(f"{value / first:.3f}")
        cells.append(", ".join(f"{t.loads[i]:.1f}" for t in trees))
        lines.append("| " + " | ".join(cells) + " |")
    for row, pick, mark in (("best", min if lower else max, "**"),
                            ("median", statistics.median, "")):
        picked = [pick(t.values[metric]) for t in trees]
        cells = [row]
        for t, value in zip(trees, picked, strict=True):
            cells.append(f"{mark}{value:,.{digits}f}{mark}")
            if t is not base:
                cells.append(f"{mark}{value / picked[0]:.3f}{mark}")
        lines.append("| " + " | ".join(cells) + " | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", required=True,
                        help="comma-separated commit-ishes; ratios are to the first")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--metric", action="append", required=True, metavar="NAME=REGEX",
                        help="a number to read from the output (first group); repeatable")
    parser.add_argument("--lower", action="append", default=[], metavar="NAME",
                        help="a metric where lower is better (CPU seconds, latency)")
    parser.add_argument("--trees", type=Path, default=ROOT.parent,
                        help="where the worktrees go (default: beside this checkout)")
    parser.add_argument("--setup", default="", help="extra for scripts/setup.sh (e.g. bench)")
    parser.add_argument("--keep", action="store_true", help="keep worktrees made here")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="after --: the benchmark command, run in each tree")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command after --")
    metrics = {}
    for spec in args.metric:
        name, sep, regex = spec.partition("=")
        if not sep:
            parser.error(f"--metric {spec!r} is not NAME=REGEX")
        metrics[name] = re.compile(regex)
    trees = [prepare(label, args.trees, args.setup) for label in args.commits.split(",")]
    try:
        for i in range(args.rounds):
            for tree in trees:
                run_once(tree, command, metrics)
                print(f"round {i + 1} {tree.sha}: " + ", ".join(
                    f"{name} {tree.values[name][-1]:,.2f}" for name in metrics), flush=True)
    finally:
        for tree in trees:
            if tree.made_here and not args.keep:
                _git("worktree", "remove", "--force", str(tree.path))
    print(f"\nCommand in each tree: `{' '.join(command)}`; {args.rounds} rounds, commits in "
          f"the order {', '.join(f'{t.sha} ({t.label})' for t in trees)}.\n")
    for name in metrics:
        print(tables(trees, name, name in args.lower) + "\n")


if __name__ == "__main__":
    main()
