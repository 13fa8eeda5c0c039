"""The console against the real embedded broker: ingest commits only what the store holds,
bad records go to the DLQ, and decisions reach `mod.decisions` through the outbox even when
the broker is unreachable at first."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from prometheus_client import CollectorRegistry

from pipeline.config import Config
from pipeline.console.cases import DecisionInput, case_id
from pipeline.console.demo import start_demo_console
from pipeline.console.ingest import Ingest, ingest_topics
from pipeline.console.metrics import ConsoleMetrics
from pipeline.console.outbox import Relay
from pipeline.console.store import Store
from pipeline.contract.ids import user_key
from pipeline.contract.messages import Action, Decision, encoder
from pipeline.errors import TransientError
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker, free_port
from pipeline.kafka.topicio import produce, read_all, wait_committed
from tests.console.conftest import CHEAP_HASHER, item
from tests.integration.conftest import fresh_config

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path}/console.db")
    store.hasher = CHEAP_HASHER
    store.migrate()
    return store


async def _topics(config: Config) -> None:
    await ensure_topics(config)  # the DLQs of the console's inputs are among them


async def _until(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.1)


async def test_ingest_merges_commits_after_the_store_and_sends_bad_records_to_the_dlq(
        broker: EmbeddedBroker, tmp_path: Path) -> None:
    config = fresh_config(broker.bootstrap_servers)
    await _topics(config)
    t = config.topics
    items = [item("p1", priority=90, queue="urgent"),
             item("p1", report="r1", reporter="a", queue="reports"),
             item("p1", report="r2", reporter="b", queue="reports"),
             item("p2")]
    action = Action("a1", "delete", "site-a", "u1", "p1", None, "ng", "auto",
                    "2026-11-23T10:00:00Z")
    records = [(t.review(i.queue), user_key(i.site_id, i.user_id), encoder.encode(i))
               for i in items]
    records += [(t.actions, b"site-a:u1", encoder.encode(action)),
                (t.review("reports"), b"site-a:u1", b"{not json"),
                (t.review("standard"), b"site-a:u1", b'{"item_id": 7}')]
    # every record twice: a replay must change nothing
    await produce(broker.bootstrap_servers, records + records[:5])
    store = _store(tmp_path)
    ingest = Ingest(config, store)
    stop = asyncio.Event()
    task = asyncio.create_task(ingest.run(stop))
    try:
        done = await wait_committed(broker.bootstrap_servers, config.console.group_id,
                                    ingest_topics(config), len(records) + 5, 60)
        assert done == len(records) + 5
    finally:
        stop.set()
        await task
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM review_items").scalar_one() == 4
        rows: dict[str, int] = dict(
            conn.exec_driver_sql("SELECT post_id, reporters FROM cases").all())
        assert rows == {"p1": 2, "p2": 0}
        assert conn.exec_driver_sql("SELECT count(*) FROM history").scalar_one() == 1
    dlq = await read_all(broker.bootstrap_servers,
                         [t.dlq(t.review("reports")), t.dlq(t.review("standard"))])
    reasons = sorted(dict(r.headers)["dlq.error.type"].decode() for r in dlq)
    assert reasons == ["invalid_json", "schema"]
    assert sorted(r.value or b"" for r in dlq) == sorted([b"{not json", b'{"item_id": 7}'])
    store.close()


async def test_decisions_made_while_kafka_is_down_are_published_when_it_returns(
        tmp_path: Path) -> None:
    port = free_port()
    config = fresh_config(f"127.0.0.1:{port}")
    config = msgspec.structs.replace(config, kafka=msgspec.structs.replace(
        config.kafka, request_timeout_ms=2000, retry_backoff_ms=50))
    store = _store(tmp_path)
    store.ingest([item(f"p{i}") for i in range(3)])
    store.add_user("s1", "staff", "correct horse battery", frozenset({"site-a"}))
    staff = store.get_user("s1")
    assert staff is not None
    made = []
    for _ in range(3):
        held, _ = store.claim_next(staff)
        assert held is not None
        made.append(store.decide(staff, held.case_id, held.claim_id,
                                 DecisionInput("delete", None, ""), config.topics.decisions))
    metrics = ConsoleMetrics(CollectorRegistry())
    relay = Relay(config, store, metrics)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    broker = EmbeddedBroker(port=port, startup_timeout_s=30)
    try:
        # the broker is not there: the relay fails, retries, and keeps every decision
        await _until(lambda: relay.failures >= 2, 60)
        assert relay.failures >= 2
        assert store.outbox_backlog()[0] == 3
        assert relay.published == 0
        await broker.start()
        with contextlib.suppress(TransientError):
            # The relay may get there first: the broker creates the topic on its produce.
            await _topics(config)
        await _until(lambda: relay.published == 3, 60)
        assert relay.published == 3
        assert store.outbox_backlog()[0] == 0
        assert metrics.registry.get_sample_value("mimamori_console_outbox_backlog") == 0
        out = await read_all(broker.bootstrap_servers, [config.topics.decisions])
    finally:
        stop.set()
        await task
        broker.stop()
        store.close()
    decoded = [msgspec.json.decode(r.value or b"", type=Decision) for r in out]
    assert sorted(d.decision_id for d in decoded) == sorted(d.decision.decision_id
                                                            for d in made)
    assert {r.key for r in out} == {b"site-a:u1"}
    assert {d.post_id for d in decoded} == {"p0", "p1", "p2"}
    assert case_id("site-a", "p0") != ""  # ids are the store's, not the test's


async def test_the_demo_console_runs_with_a_demo_account(broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers)
    config = msgspec.structs.replace(config, console=msgspec.structs.replace(
        config.console, port=0))
    await ensure_topics(config)
    await produce(broker.bootstrap_servers, [(config.topics.review("urgent"), b"site-a:u1",
                                              encoder.encode(item("p1", queue="urgent")))])
    demo = await start_demo_console(config, CollectorRegistry())
    try:
        assert await demo.wait_ingested() == 1
        assert demo.url.startswith("http://127.0.0.1:")
        store = demo.service.store
        assert store is not None
        opened = await asyncio.to_thread(store.login, demo.username, demo.password,
                                         client="t", ttl_s=60, throttle_keys=["t"])
        assert opened is not None
        assert opened[1].user.role == "chief"
        assert opened[1].user.all_sites
    finally:
        await demo.stop()
    assert not demo.directory.exists()
