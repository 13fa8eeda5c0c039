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
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config
from pipeline.filter.judge import FilterCore
from pipeline.filter.policy import verdict_of
from pipeline.text.matcher import Matcher
from pipeline.text.wordlists import load_wordlists
from tests.tables import read_table, unescape

ROOT = Path(__file__).resolve().parents[1]
_RANK = {"clean": 0, "review": 1, "ng": 2}


@dataclass(frozen=True)
class Outcome:
    """One evaluated post."""

    text: str
    label: str
    klass: str
    lang: str
    split: str
    verdict: str

    @property
    def caught(self) -> bool:
        """A harmful post reached at least the verdict it deserves."""
        return _RANK[self.verdict] >= _RANK[self.label]


@dataclass(frozen=True)
class Report:
    """The evaluation's numbers."""

    outcomes: list[Outcome]

    def recall(self, label: str) -> float:
        rows = [o for o in self.outcomes if o.label == label]
        return sum(o.caught for o in rows) / len(rows)

    def false_positive_rate(self, verdict: str | None = None) -> float:
        """Clean posts judged `verdict` (any verdict but clean when None)."""
        clean = [o for o in self.outcomes if o.label == "clean"]
        return sum(o.verdict != "clean" if verdict is None else o.verdict == verdict
                   for o in clean) / len(clean)

    def split(self, name: str) -> Report:
        """The outcomes of one split (`dev` or `test`)."""
        return Report([o for o in self.outcomes if o.split == name])

    def by_class(self) -> dict[str, tuple[int, int]]:
        """Class → (caught, total) over harmful posts."""
        out: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        for o in self.outcomes:
            if o.label != "clean":
                out[o.klass][0] += o.caught
                out[o.klass][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def evaluate(wordlists: Path = ROOT / "wordlists") -> Report:
    """Judge every post of the set with the default policy and the given lists."""
    core = FilterCore(Matcher(load_wordlists(wordlists)), Config())
    outcomes = []
    for text, label, klass, lang, split in read_table("eval.tsv"):
        post_text = unescape(text)
        outcomes.append(Outcome(post_text, label, klass, lang, split,
                                verdict_of(core.hits(post_text, "site-01"))))
    return Report(outcomes)


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
