"""Detection quality on the labeled evaluation set (tests/data/eval.tsv).

    .venv/bin/python -m benchmarks.evaluate [--wordlists DIR] [--split dev|test|all] [--misses]

Prints, for each split (dev: the posts lists and rules are tuned on; test: the posts they are
not), recall per expected verdict (a `review` post counts as caught when it is sent to review
or acted on; an `ng` post only when it is acted on), recall per class, and two false-positive
rates on clean posts: wrongly auto-deleted (judged `ng`) and wrongly sent to review.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

from tests.evaluation import ROOT, Report, evaluate


def _print(name: str, report: Report, misses: bool) -> None:
    counts = collections.Counter(o.label for o in report.outcomes)
    print(f"{name}: {len(report.outcomes)} posts: {counts['ng']} ng, {counts['review']} review, "
          f"{counts['clean']} clean")
    print(f"  recall ng:     {report.recall('ng'):7.1%}")
    print(f"  recall review: {report.recall('review'):7.1%}")
    print(f"  clean posts wrongly auto-deleted: {report.false_positive_rate('ng'):.2%}")
    print(f"  clean posts wrongly sent to review: {report.false_positive_rate('review'):.2%}")
    print("  recall by class:")
    for klass, (caught, total) in report.by_class().items():
        print(f"    {klass:<15} {caught:>4}/{total:<4} {caught / total:7.1%}")
    if misses:
        for o in report.outcomes:
            if (o.label != "clean" and not o.caught) or (o.label == "clean" and
                                                          o.verdict != "clean"):
                print(f"    {o.label:>6} → {o.verdict:<6} [{o.klass}] {o.text!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordlists", type=Path, default=ROOT / "wordlists")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    args = parser.parse_args()
    report = evaluate(args.wordlists)
    for name in ("dev", "test"):
        if args.split in (name, "all"):
            _print(name, report.split(name), args.misses)


if __name__ == "__main__":
    main()
