"""A reference point: better-profanity on the English part of the same stream.

    scripts/setup.sh bench && .venv/bin/python -m benchmarks.peer [--posts 100000]

better-profanity is a popular pure-Python English profanity filter (a word list with leet
variants). It answers a smaller question than mimamori (is there a swear word? no categories,
no Japanese, no contact details, no offsets), so the comparison is a reference, not a race:

- speed: English posts per second on one core, `profanity.contains_profanity(text)` against
  mimamori's `FilterCore.hits_batch` (normalize, match, detect; offsets included) in batches
  of 2,000, over the English posts of the benchmark stream;
- detection: on the English rows of the labeled evaluation set (tests/data/eval.tsv), how many
  harmful posts each flags (ng or review labels) and how many clean ones.

Results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
from importlib import metadata

from better_profanity import profanity

from benchmarks.common import ROOT, best_seconds, machine, publish
from benchmarks.e2e import STREAM
from pipeline.config import Config
from pipeline.contract.messages import decode_post
from pipeline.filter.judge import FilterCore
from pipeline.text.matcher import Matcher
from pipeline.text.wordlists import load_wordlists
from pipeline.tools.sample import generate
from tests.tables import read_table, unescape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000,
                        help="stream length; about 20%% of it is English")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    profanity.load_censor_words()
    core = FilterCore(Matcher(load_wordlists(ROOT / "wordlists")), Config())
    posts = [decode_post(r.value, max_bytes=1 << 20, max_text_chars=1 << 20)
             for r in generate(args.posts, **STREAM)  # type: ignore[arg-type]
             if r.topic_kind == "posts"]
    english = [p.text for p in posts if p.lang == "en"]
    sites: list[str | None] = [None] * 2_000

    def ours() -> None:
        for start in range(0, len(english), 2_000):
            chunk = english[start:start + 2_000]
            core.hits_batch(chunk, sites[:len(chunk)])

    theirs_rate = len(english) / best_seconds(3, lambda: [profanity.contains_profanity(t)
                                                          for t in english])
    ours_rate = len(english) / best_seconds(3, ours)

    rows = [(unescape(text), label) for text, label, _, lang in read_table("eval.tsv")
            if lang == "en"]
    harmful = [t for t, label in rows if label != "clean"]
    clean = [t for t, label in rows if label == "clean"]
    theirs_caught = sum(profanity.contains_profanity(t) for t in harmful)
    ours_caught = sum(bool(core.hits(t)) for t in harmful)
    theirs_fp = sum(profanity.contains_profanity(t) for t in clean)
    ours_fp = sum(bool(core.hits(t)) for t in clean)
    version = metadata.version("better-profanity")
    table = [
        "| | better-profanity " + version + " | mimamori filter core |",
        "| --- | ---: | ---: |",
        f"| English posts/s, one core ({len(english):,} posts) | {theirs_rate:,.0f} | "
        f"{ours_rate:,.0f} |",
        f"| harmful English eval posts flagged (of {len(harmful)}) | {theirs_caught} | "
        f"{ours_caught} |",
        f"| clean English eval posts flagged (of {len(clean)}) | {theirs_fp} | {ours_fp} |",
    ]
    body = (f"Command: `scripts/setup.sh bench && .venv/bin/python -m benchmarks.peer --posts "
            f"{args.posts}`.\n\nMachine: {machine()}.\n\nbetter-profanity's "
            "`contains_profanity` against `FilterCore.hits_batch` (mimamori's lists, "
            "normalization, matching and contact detectors, with offsets) on the English "
            "posts of the benchmark stream, and both on the English rows of the labeled "
            "evaluation set (flagged = any hit; mimamori's lists were written with that set "
            "in view, better-profanity's were not, so read the detection rows as a sketch of "
            "what a generic English list misses: spaced-out letters, look-alikes, contact "
            "details, solicitation).\n\n" + "\n".join(table))
    publish("Reference: better-profanity", body, write=not args.no_write)


if __name__ == "__main__":
    main()
