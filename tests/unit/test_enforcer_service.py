"""The enforcer's processor without a broker: outputs of a batch, state staged until the
commit, dropped on an abort, nothing left behind when processing raises."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from pipeline.config import Config
from pipeline.contract.ids import stable_id, user_key
from pipeline.contract.messages import Action, Violation, encoder
from pipeline.enforcer import service
from pipeline.enforcer.ledger import decode_ledger
from pipeline.enforcer.metrics import EnforcerMetrics
from pipeline.enforcer.rules import apply as real_apply
from pipeline.enforcer.service import Enforcer
from pipeline.kafka.deadletters import DeadLetters
from pipeline.kafka.loop import Batch, BatchResult

NOW = "2026-11-23T01:00:00.000Z"
CONFIG = Config()
T = CONFIG.topics


def violation(user: str, post: str, second: int) -> Violation:
    return Violation(violation_id=f"V{post}", site_id="site-01", user_id=user, post_id=post,
                     categories=["abuse"], terms=["t"], source="filter",
                     created_at="2026-11-23T00:00:00Z",
                     detected_at=f"2026-11-23T00:00:{second:02d}Z")


def batch(*records: tuple[bytes | None, bytes | None], partition: int = 0) -> Batch:
    tp = TopicPartition(T.violations, partition)
    return {tp: [ConsumerRecord(tp.topic, partition, offset, 0, 0, key, value, None,
                                len(value or b""), len(key or b""), [])
                 for offset, (key, value) in enumerate(records)]}


def event(v: Violation) -> tuple[bytes, bytes]:
    return user_key(v.site_id, v.user_id), encoder.encode(v)


def enforcer() -> Enforcer:
    made = Enforcer(CONFIG, EnforcerMetrics(CollectorRegistry()), clock=lambda: NOW)
    made.store.load(0, {})  # partition 0 restored (empty): no broker needed
    return made


def process(e: Enforcer, b: Batch) -> BatchResult:
    return asyncio.run(e.process(b, DeadLetters(T)))


def test_a_batch_yields_its_actions_and_one_ledger_record_per_user() -> None:
    e = enforcer()
    events = [violation("u1", "p1", 1), violation("u2", "q1", 2), violation("u1", "p2", 3)]
    result = process(e, batch(*map(event, events)))
    topics = [o.topic for o in result.outputs]
    assert topics == [T.actions, T.ledger, T.ledger]  # u1's warn, then u1's and u2's ledgers
    # Ledgers go to their input's partition; actions to their key's, like the filter's.
    assert [o.partition for o in result.outputs] == [None, 0, 0]
    [warn] = [msgspec.json.decode(o.value or b"", type=Action) for o in result.outputs
              if o.topic == T.actions]
    assert warn.action_id == stable_id("action", "escalation", "site-01", "u1", "Vp2", "warn")
    assert warn.issued_at == NOW
    assert e.store.get(0, user_key("site-01", "u1")) is None  # staged, not yet the state
    assert result.on_commit is not None
    result.on_commit()
    ledger = e.store.get(0, user_key("site-01", "u1"))
    assert ledger is not None
    assert [s.post_id for s in ledger.strikes] == ["p1", "p2"]
    # The state is exactly the record written to the changelog.
    assert decode_ledger(result.outputs[1].value or b"") == ledger
    assert e.metrics.registry.get_sample_value("mimamori_enforcer_ledger_users") == 2


def test_an_aborted_batch_leaves_no_state_and_its_partition_is_read_again() -> None:
    e = enforcer()
    result = process(e, batch(event(violation("u1", "p1", 1))))
    assert result.on_abort is not None
    result.on_abort()
    assert 0 not in e.store.partitions()  # read back from the changelog before its next batch


def test_bad_records_go_to_the_dlq_and_the_rest_is_applied() -> None:
    e = enforcer()
    good = violation("u1", "p1", 1)
    result = process(e, batch((b"site-01:u1", b"{nope"), event(good)))
    [dlq, ledger] = result.outputs
    assert dlq.topic == T.dlq(T.violations)
    assert dlq.dlq_reason == "invalid_json"
    assert ledger.topic == T.ledger


def test_processing_that_raises_leaves_nothing_staged(monkeypatch: pytest.MonkeyPatch) -> None:
    e = enforcer()
    first = process(e, batch(event(violation("u1", "p1", 1))))
    assert e._pending  # staged for the batch in hand
    calls = {"n": 0}

    def flaky(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("a bug")
        return real_apply(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "apply", flaky)
    staged = dict(e._pending)
    with pytest.raises(RuntimeError):
        process(e, batch(event(violation("u2", "q1", 2)), event(violation("u3", "r1", 3))))
    assert e._pending == staged  # the first event of the failed call is not left behind
    assert first.on_commit is not None
