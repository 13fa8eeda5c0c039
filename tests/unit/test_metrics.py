"""Filter metrics on a fresh registry: counted once a batch commits, bounded labels."""

from __future__ import annotations

import asyncio
import platform

from aiokafka import ConsumerRecord, TopicPartition

from pipeline.config import Config
from pipeline.filter.judge import FilterCore
from pipeline.filter.worker import FilterWorker
from pipeline.kafka.deadletters import DeadLetters
from pipeline.telemetry.metrics import Metrics
from pipeline.tools.sample import malformed_records


def record(offset: int, value: bytes, topic: str = "mod.posts") -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, 0, offset, 0, 0, b"s:u", value, None, len(value), len(b"s:u"),
                          [])


def post(post_id: str, text: str) -> bytes:
    return (f'{{"post_id":"{post_id}","site_id":"s","user_id":"u","text":"{text}",'
            f'"created_at":"2026-11-23T10:00:00Z"}}').encode()


REPORT = (b'{"report_id":"r1","site_id":"s","post_id":"p9","reporter_id":"x",'
          b'"category":"violating_post","created_at":"2026-11-23T10:00:00Z",'
          b'"post_text":"\xe3\x81\x97\xe3\x81\xad","post_user_id":"u"}')


def test_verdicts_hits_and_reports_count_only_once_committed(default_core: FilterCore) -> None:
    metrics = Metrics()
    worker = FilterWorker(Config(), default_core, metrics)
    malformed = malformed_records()
    bad = [r.value for r in malformed]
    values = [post("1", "しね"), post("2", "こんにちは"), post("3", "ライン交換"), *bad]
    batch = {TopicPartition("mod.posts", 0): [record(i, v) for i, v in enumerate(values)],
             TopicPartition("mod.reports", 0): [record(0, REPORT, "mod.reports")]}
    result = asyncio.run(worker.process(batch, DeadLetters(Config().topics)))
    reg = metrics.registry

    def value(name: str, **labels: str) -> float | None:
        return reg.get_sample_value(name, labels)

    assert value("mimamori_verdicts_total", outcome="ng") is None  # nothing committed yet
    assert result.on_commit is not None
    result.on_commit()
    assert value("mimamori_verdicts_total", outcome="ng") == 1
    assert value("mimamori_verdicts_total", outcome="clean") == 1
    assert value("mimamori_verdicts_total", outcome="review") == 1
    assert value("mimamori_verdicts_total", outcome="report") == 1
    assert value("mimamori_reports_total", category="violating_post") == 1
    # the post's しね and the reported post's しね
    assert value("mimamori_hits_total", mode="ng", category="abuse") == 2
    assert value("mimamori_hits_total", mode="watch", category="contact") == 1
    dlq = [o for o in result.outputs if o.topic == "mod.posts.dlq"]
    assert [o.value for o in dlq] == bad
    assert [o.dlq_reason for o in dlq] == [r.kind for r in malformed]
    headers = dict(dlq[0].headers or [])
    assert headers["dlq.original.topic"] == b"mod.posts"
    assert headers["dlq.original.offset"] == b"3"
    assert headers["dlq.error.type"] == b"invalid_json"


def test_every_metric_is_prefixed() -> None:
    metrics = Metrics()
    names = {m.name for m in metrics.registry.collect()}
    assert names
    assert all(n.startswith("mimamori_") for n in names)
    assert metrics.registry.get_sample_value(
        "mimamori_build_info", {"version": "0.1.0", "python": platform.python_version()}) == 1
    rss = metrics.registry.get_sample_value("mimamori_process_resident_memory_bytes")
    assert rss is not None
    assert rss > 0
