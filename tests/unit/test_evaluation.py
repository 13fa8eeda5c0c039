"""Detection quality on the labeled evaluation set must not regress (benchmarks/evaluate.py)."""

from __future__ import annotations

from benchmarks.evaluate import evaluate


def test_evaluation_set_quality() -> None:
    report = evaluate()
    assert len(report.outcomes) >= 500
    assert report.false_positive_rate() < 0.02
    assert report.recall("ng") >= 0.99
    assert report.recall("review") >= 0.99
    for klass, (caught, total) in report.by_class().items():
        assert caught / total >= 0.95, klass
