"""Worker metrics on a fresh registry: counts per batch, bounded labels."""

from __future__ import annotations

from aiokafka import ConsumerRecord, TopicPartition

from pipeline.config import Config
from pipeline.filter.judge import FilterCore
from pipeline.filter.worker import FilterWorker
from pipeline.telemetry.metrics import Metrics
from pipeline.tools.sample import malformed_records


def record(offset: int, value: bytes, topic: str = "mod.posts") -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, 0, offset, 0, 0, b"s:u", value, None, len(value), len(b"s:u"),
                          [])


def post(post_id: str, text: str) -> bytes:
    return (f'{{"post_id":"{post_id}","site_id":"s","user_id":"u","text":"{text}",'
            f'"created_at":"t"}}').encode()


def test_judge_counts_outcomes_hits_and_dlq(default_core: FilterCore) -> None:
    metrics = Metrics()
    worker = FilterWorker(Config(), default_core, metrics)
    bad = [r.value for r in malformed_records()]
    values = [post("1", "しね"), post("2", "こんにちは"), post("3", "ライン交換"), *bad]
    batch = {TopicPartition("mod.posts", 0): [record(i, v) for i, v in enumerate(values)]}
    outputs, consumed = worker._judge(batch)
    reg = metrics.registry

    def value(name: str, **labels: str) -> float | None:
        return reg.get_sample_value(name, labels)

    assert consumed == {"mod.posts": len(values)}
    assert value("mimamori_verdicts_total", outcome="ng") == 1
    assert value("mimamori_verdicts_total", outcome="clean") == 1
    assert value("mimamori_verdicts_total", outcome="review") == 1
    assert value("mimamori_hits_total", mode="ng", category="abuse") == 1
    assert value("mimamori_hits_total", mode="watch", category="contact") == 1
    assert value("mimamori_dlq_records_total", reason="schema") == 2
    assert value("mimamori_dlq_records_total", reason="oversized") == 1
    assert value("mimamori_record_processing_seconds_count") == 1  # one mean per batch
    dlq = [o for o in outputs if o.topic == "mod.posts.dlq"]
    assert len(dlq) == len(bad)
    assert [o.value for o in dlq] == bad
    headers = dict(dlq[0].headers or [])
    assert headers["dlq.original.topic"] == b"mod.posts"
    assert headers["dlq.original.offset"] == b"3"
    assert headers["dlq.error.type"] == b"invalid_json"


def test_reports_are_counted_by_category(default_core: FilterCore) -> None:
    metrics = Metrics()
    worker = FilterWorker(Config(), default_core, metrics)

    def report(n: int, category: str) -> bytes:
        return (f'{{"report_id":"r{n}","site_id":"s","post_id":"p{n}","reporter_id":"x",'
                f'"category":"{category}","created_at":"t"}}').encode()

    values = [report(1, "violating_post"), report(2, "violating_post"), report(3, "billing"),
              b'{"report_id": 1}']
    batch = {TopicPartition("mod.reports", 0): [
        record(i, v, "mod.reports") for i, v in enumerate(values)]}
    worker._judge(batch)
    reg = metrics.registry
    assert reg.get_sample_value("mimamori_reports_total", {"category": "violating_post"}) == 2
    assert reg.get_sample_value("mimamori_reports_total", {"category": "billing"}) == 1
    assert reg.get_sample_value("mimamori_reports_total", {"category": "other"}) == 0
    assert reg.get_sample_value("mimamori_verdicts_total", {"outcome": "report"}) == 3


def test_every_metric_is_prefixed_and_the_process_is_described() -> None:
    metrics = Metrics()
    names = {m.name for m in metrics.registry.collect()}
    assert names
    # The only others: prometheus_client's process collector, which the SRE dashboard plots.
    assert {n for n in names if not n.startswith("mimamori_")} == {
        "process_cpu_seconds", "process_virtual_memory_bytes", "process_resident_memory_bytes",
        "process_start_time_seconds", "process_open_fds", "process_max_fds"}
    rss = metrics.registry.get_sample_value("process_resident_memory_bytes")
    assert rss is not None
    assert rss > 1_000_000
    assert metrics.registry.get_sample_value("mimamori_build_info",
                                             {"version": "0.1.0", "python": __import__(
                                                 "platform").python_version()}) == 1


def test_known_label_values_are_exported_at_zero_before_any_event() -> None:
    """A panel or alert sees a flat zero, not "no data", before the first DLQ record, error,
    failed commit or reload."""
    reg = Metrics().registry
    zero = {
        "mimamori_dlq_records_total": [("reason", r) for r in (
            "invalid_json", "invalid_utf8", "schema", "empty_text", "oversized",
            "internal_error")],
        "mimamori_offset_commits_total": [("result", r) for r in (
            "ok", "rebalanced", "failed", "stuck")],
        "mimamori_errors_total": [("kind", "fetch"), ("kind", "produce")],
        "mimamori_wordlist_reloads_total": [("result", "ok"), ("result", "error")],
        "mimamori_verdicts_total": [("outcome", o) for o in ("clean", "review", "ng", "report")],
        "mimamori_reports_total": [("category", c) for c in (
            "operation", "penalty", "violating_post", "registration", "billing", "internet",
            "advertising", "certification", "education", "other")],
    }
    for name, labels in zero.items():
        for key, value in labels:
            assert reg.get_sample_value(name, {key: value}) == 0, (name, value)
    assert reg.get_sample_value("mimamori_wordlist_reload_failed_timestamp_seconds") == 0
    assert reg.get_sample_value("mimamori_errors_total", {"kind": "other"}) is None
