"""Detection quality on the labeled evaluation set (tests/data/eval.tsv): the posts, their
labels and splits, and what the filter makes of them. Shared by the test that holds the
targets (tests/unit/test_evaluation.py) and the report (`python -m benchmarks.evaluate`)."""

from __future__ import annotations

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
