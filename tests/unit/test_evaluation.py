"""Detection quality on the labeled evaluation set (tests/evaluation.py): the targets hold
on the test split, the one lists and rules are not tuned on."""

from __future__ import annotations

from tests.evaluation import evaluate


def test_evaluation_set_quality() -> None:
    report = evaluate()
    assert len(report.outcomes) >= 2000
    for split in ("dev", "test"):
        part = report.split(split)
        assert len(part.outcomes) >= 900, split
        assert part.recall("ng") >= 0.95, split
        assert part.recall("review") >= 0.90, split
        assert part.false_positive_rate("ng") <= 0.002, split
        assert part.false_positive_rate("review") <= 0.03, split
