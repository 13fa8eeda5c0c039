"""No single record halts a worker: what real producers write, on the real embedded broker.

Records are produced with an independent client (librdkafka, through confluent-kafka) the way
site producers write them: compressed with every codec, as large as the topic allows, with
headers and null keys. Expected outputs are written by hand.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec
import pytest
from confluent_kafka import Producer

from pipeline.config import Config
from pipeline.filter.service import build_core
from pipeline.filter.worker import FilterWorker
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker, free_port
from pipeline.kafka.topicio import Record, read_all, wait_committed
from pipeline.telemetry.metrics import Metrics
from tests.integration.conftest import ROOT, fresh_config, start_worker
from tests.integration.helpers import http_get, metric
from tests.processes import spawn

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

NG_TEXT = "お前しね"
CLEAN_TEXT = "今日はいい天気だね"


def post(post_id: str, text: str, user: str = "u1") -> bytes:
    return msgspec.json.encode({"post_id": post_id, "site_id": "site-01", "user_id": user,
                                "text": text, "created_at": "2026-11-23T10:00:00Z"})


def librdkafka_producer(config: Config, **settings: object) -> Producer:
    return Producer({"bootstrap.servers": config.kafka.bootstrap_servers, "linger.ms": 50,
                     "acks": "all", **settings})


ToProduce = tuple[str, bytes | None, bytes | None, list[tuple[str, str | bytes | None]] | None]


def deliver(producer: Producer, records: Sequence[ToProduce]) -> None:
    """Produce and wait for every delivery report; fail on any error."""
    errors: list[object] = []
    for topic, key, value, headers in records:
        producer.produce(topic, key=key, value=value, headers=headers,
                         on_delivery=lambda err, _msg: errors.append(err))
    assert producer.flush(30) == 0
    assert errors == [None] * len(records)


async def run_filter(config: Config, expected: int) -> tuple[Metrics, dict[str, float]]:
    """One in-process filter worker until `expected` records are committed. Returns its
    metrics and, read before it left the group, its lag gauges by `topic/partition`."""
    metrics = Metrics()
    worker = FilterWorker(config, build_core(config, metrics), metrics)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        done = await wait_committed(config.kafka.bootstrap_servers, config.kafka.group_id,
                                    [config.topics.posts, config.topics.reports], expected, 60)
        assert done == expected
        await asyncio.sleep(config.worker.lag_refresh_interval_ms / 1000)  # one refresh
        lag = {f"{s.labels['topic']}/{s.labels['partition']}": s.value
               for family in metrics.registry.collect()
               if family.name == "mimamori_consumer_lag_records" for s in family.samples}
    finally:
        stop.set()
        await task
    return metrics, lag


async def action_post_ids(config: Config) -> list[str]:
    actions = await read_all(config.kafka.bootstrap_servers, [config.topics.actions])
    return sorted(msgspec.json.decode(r.value or b"")["post_id"] for r in actions)


def count(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
async def test_every_codec_a_producer_can_use_decodes(broker: EmbeddedBroker, codec: str) -> None:
    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config)
    posts = config.topics.posts
    compressed = [(posts, f"site-01:u{i % 3}".encode(),
                   post(f"z{i}", NG_TEXT if i % 5 == 0 else CLEAN_TEXT, f"u{i % 3}"), None)
                  for i in range(50)]
    deliver(librdkafka_producer(config, **{"compression.type": codec}), compressed)
    plain = [(posts, b"site-01:u0", post(f"p{i}", NG_TEXT if i < 2 else CLEAN_TEXT, "u0"), None)
             for i in range(10)]
    deliver(librdkafka_producer(config, **{"compression.type": "none"}), plain)

    metrics, lag = await run_filter(config, 60)
    assert await action_post_ids(config) == sorted(
        ["p0", "p1", "z0", "z5", "z10", "z15", "z20", "z25", "z30", "z35", "z40", "z45"])
    assert count(metrics, "mimamori_verdicts_total", outcome="ng") == 12
    assert count(metrics, "mimamori_verdicts_total", outcome="clean") == 48
    assert count(metrics, "mimamori_records_consumed_total", service="filter", topic=posts) == 60
    assert count(metrics, "mimamori_errors_total", service="filter", kind="fetch") == 0
    assert await read_all(config.kafka.bootstrap_servers, [config.topics.dlq(posts)]) == []
    # A lag series for every owned partition, the empty ones too, all caught up.
    assert lag == {f"{topic}/{partition}": 0 for topic in (posts, config.topics.reports)
                   for partition in range(config.topics.partitions)}


@pytest.mark.parametrize("dlq_max_message_bytes", [2_097_152, 131_072])
async def test_a_record_of_the_default_topic_limit_reaches_the_dlq(
        broker: EmbeddedBroker, dlq_max_message_bytes: int) -> None:
    config = fresh_config(broker.bootstrap_servers)
    config = msgspec.structs.replace(config, topics=msgspec.structs.replace(
        config.topics, dlq_max_message_bytes=dlq_max_message_bytes))
    await ensure_topics(config)
    posts = config.topics.posts
    big = post("big", "あ" * 10) + b" " * (1_048_576 - len(post("big", "あ" * 10)))
    assert len(big) == 1_048_576  # Kafka's default topic limit, 1 MiB
    records: list[ToProduce] = [(posts, b"site-01:u1", big, [("source", b"site-01-app")])]
    records += [(posts, b"site-01:u1", post(f"after{i}", NG_TEXT), None) for i in range(3)]
    deliver(librdkafka_producer(config, **{"message.max.bytes": 4_000_000}), records)

    metrics, _ = await run_filter(config, 4)
    assert await action_post_ids(config) == ["after0", "after1", "after2"]
    [copy] = await read_all(config.kafka.bootstrap_servers, [config.topics.dlq(posts)])
    headers = dict(copy.headers)
    assert copy.key == b"site-01:u1"
    assert headers["dlq.error.type"] == b"oversized"
    assert headers["dlq.original.offset"] == b"0"
    assert count(metrics, "mimamori_dlq_records_total", service="filter", reason="oversized") == 1
    if dlq_max_message_bytes > len(big):
        assert copy.value == big
        assert headers["dlq.original.header.source"] == b"site-01-app"
        assert "dlq.truncated" not in headers
    else:
        assert copy.value is not None
        assert big.startswith(copy.value)
        assert 120_000 < len(copy.value) < dlq_max_message_bytes
        assert headers["dlq.truncated"] == b"true"
        assert headers["dlq.original.size"] == b"1048576"
        assert headers["dlq.original.sha256"] == hashlib.sha256(big).hexdigest().encode()


async def test_dlq_copies_keep_headers_and_null_keys_and_values(broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers)
    await ensure_topics(config)
    posts = config.topics.posts
    deliver(librdkafka_producer(config), [
        (posts, None, b"{not json", [("trace-id", b"t-1"), ("app", b"web")]),
        (posts, b"site-01:u1", None, None),  # a tombstone
        (posts, b"site-01:u1", post("ok", NG_TEXT), None),
    ])
    await run_filter(config, 3)
    copies = await read_all(config.kafka.bootstrap_servers, [config.topics.dlq(posts)])
    assert [dict(r.headers)["dlq.error.type"] for r in copies] == [b"invalid_json"] * 2
    bad_json = next(r for r in copies if r.value == b"{not json")
    assert bad_json.key is None
    assert dict(bad_json.headers)["dlq.original.header.trace-id"] == b"t-1"
    assert dict(bad_json.headers)["dlq.original.header.app"] == b"web"
    tombstone = next(r for r in copies if r.value is None)
    assert tombstone.key == b"site-01:u1"
    assert dict(tombstone.headers)["dlq.error.message"] == b"record has no value (tombstone)"
    assert await action_post_ids(config) == ["ok"]


@pytest.fixture
def without_zstd(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as if built without the compression library (how the worker used to be
    installed): zstd, lz4 and snappy batches cannot be read."""
    monkeypatch.setattr("aiokafka.codec.cramjam", None)


@pytest.mark.usefixtures("without_zstd")
async def test_a_batch_this_process_cannot_read_is_skipped_with_a_dlq_record_per_offset(
        broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers)
    config = msgspec.structs.replace(config, topics=msgspec.structs.replace(
        config.topics, partitions=1))
    await ensure_topics(config)
    posts = config.topics.posts
    deliver(librdkafka_producer(config, **{"compression.type": "none"}),
            [(posts, b"site-01:u1", post("before", NG_TEXT), None)])
    deliver(librdkafka_producer(config, **{"compression.type": "zstd", "linger.ms": 500}),
            [(posts, b"site-01:u1", post(f"z{i}", NG_TEXT), None) for i in range(3)])
    deliver(librdkafka_producer(config, **{"compression.type": "none"}),
            [(posts, b"site-01:u1", post(f"after{i}", NG_TEXT), None) for i in range(2)])

    metrics, _ = await run_filter(config, 6)
    assert await action_post_ids(config) == ["after0", "after1", "before"]
    copies: list[Record] = await read_all(config.kafka.bootstrap_servers,
                                          [config.topics.dlq(posts)])
    assert [(r.key, r.value) for r in copies] == [(None, b"")] * 3
    headers = [dict(r.headers) for r in copies]
    assert [h["dlq.original.offset"] for h in headers] == [b"1", b"2", b"3"]
    assert {h["dlq.original.topic"] for h in headers} == {posts.encode()}
    assert {h["dlq.original.partition"] for h in headers} == {b"0"}
    assert all(h["dlq.error.type"] == b"undecodable" for h in headers)
    assert all(b"UnsupportedCodecError" in h["dlq.error.message"] for h in headers)
    assert count(metrics, "mimamori_dlq_records_total", service="filter",
                 reason="undecodable") == 3


async def test_a_worker_started_before_its_broker_waits_for_it(tmp_path: Path) -> None:
    port = free_port()
    config = fresh_config(f"127.0.0.1:{port}")
    metrics_port = free_port()
    config = msgspec.structs.replace(config, metrics=msgspec.structs.replace(
        config.metrics, port=metrics_port))
    url = f"http://127.0.0.1:{metrics_port}"
    log = tmp_path / "worker.log"
    worker = start_worker(config, log)
    own = EmbeddedBroker(port=port, startup_timeout_s=30)
    try:
        status, body = 0, ""
        for _ in range(100):
            status, body = http_get(f"{url}/ready")
            if status == 503 and "broker unreachable" in body:
                break
            await asyncio.sleep(0.1)
        assert (status, body.split(" for ")[0]) == (503, "broker unreachable")
        await asyncio.sleep(3)
        assert worker.poll() is None, log.read_text()[-2000:]  # waiting, not exited
        assert metric(f"{url}/metrics", 'mimamori_broker_connected{service="filter"}') == 0
        await own.start()
        await ensure_topics(config)
        deliver(librdkafka_producer(config), [
            (config.topics.posts, b"site-01:u1", post("late", NG_TEXT), None)])
        done = await wait_committed(config.kafka.bootstrap_servers, config.kafka.group_id,
                                    [config.topics.posts], 1, 90)
        assert done == 1, log.read_text()[-2000:]
        assert http_get(f"{url}/ready")[0] == 200
        assert await action_post_ids(config) == ["late"]
    finally:
        worker.terminate()
        try:
            assert worker.wait(30) == 0
        finally:
            own.stop()
    text = log.read_text()
    assert "Traceback" not in text
    assert text.count("broker unreachable") < 20  # one warning, repeated every 30 s at most


async def test_broker_port_taken_fails_before_touching_anything(broker: EmbeddedBroker) -> None:
    before = await _topics(broker.bootstrap_servers)
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "pipeline", "broker", "--port", str(broker.port)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "MIMAMORI_TOPICS_REVIEW_PREFIX": "mod.taken-test."})
    assert result.returncode == 2, result.stderr
    assert f"127.0.0.1:{broker.port} is already in use" in result.stderr
    assert "--port" in result.stderr
    assert await _topics(broker.bootstrap_servers) == before


async def _topics(bootstrap: str) -> set[str]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_a_taken_metrics_port_is_a_clear_error(broker: EmbeddedBroker,
                                                     tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = fresh_config(broker.bootstrap_servers)
        config = msgspec.structs.replace(config, metrics=msgspec.structs.replace(
            config.metrics, port=port))
        log = tmp_path / "worker.log"
        worker = spawn(["pipeline", "run"], config, log)
        assert await asyncio.to_thread(worker.wait, 60) == 2
    text = log.read_text()
    assert f"cannot serve /metrics on 127.0.0.1:{port}" in text
    assert "--metrics-port PORT or MIMAMORI_METRICS_PORT" in text
    assert "Traceback" not in text
