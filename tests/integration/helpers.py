"""Shared checks for the integration and fault tests: expected outputs by stable id."""

from __future__ import annotations

import collections
import urllib.error
import urllib.request

import msgspec
from aiokafka import TopicPartition

from pipeline.config import Config
from pipeline.contract.messages import Action, Violation, decode_post, decode_report
from pipeline.errors import PoisonRecord
from pipeline.filter.judge import FilterCore
from pipeline.filter.outcomes import Message
from pipeline.kafka.topicio import Record, committed_offsets, produce, read_all
from pipeline.tools.sample import SampleRecord

NOW = "2026-11-23T00:00:00.000Z"


def output_topics(config: Config) -> list[str]:
    t, p = config.topics, config.policy
    return [t.actions, t.violations] + [
        t.review(q) for q in (p.urgent_queue, p.standard_queue, p.reports_queue)]


def output_id(value: bytes) -> str:
    message = msgspec.json.decode(value)
    for field in ("action_id", "item_id", "violation_id"):
        if field in message:
            return str(message[field])
    raise AssertionError(f"no id in {message}")


def outputs_of(core: FilterCore, config: Config, topic_kind: str, key: bytes | None,
               value: bytes) -> list[tuple[str, str]]:
    """(topic, id) of every output the pure core gives one input record."""
    w = config.worker
    if topic_kind == "posts":
        post = decode_post(value, max_bytes=w.max_record_bytes, max_text_chars=w.max_text_chars)
        messages: list[Message] = list(core.process_post(post, NOW).messages)
    else:
        report = decode_report(value, max_bytes=w.max_record_bytes,
                               max_text_chars=w.max_text_chars)
        messages = [core.process_report(report, key)]
    return [(topic_of(config, m), output_id(msgspec.json.encode(m))) for m in messages]


def topic_of(config: Config, message: Message) -> str:
    t = config.topics
    if isinstance(message, Action):
        return t.actions
    if isinstance(message, Violation):
        return t.violations
    return t.review(message.queue)


def expected_ids(core: FilterCore, config: Config,
                 records: list[SampleRecord]) -> dict[str, set[str]]:
    """What the pure core says each output topic must receive, by stable id."""
    out: dict[str, set[str]] = collections.defaultdict(set)
    for record in records:
        if record.kind in ("clean", "hit", "report"):
            for topic, ident in outputs_of(core, config, record.topic_kind, record.key,
                                           record.value):
                out[topic].add(ident)
    return out


async def read_ids(config: Config) -> dict[str, list[str]]:
    records = await read_all(config.kafka.bootstrap_servers, output_topics(config))
    out: dict[str, list[str]] = collections.defaultdict(list)
    for r in records:
        out[r.topic].append(output_id(r.value or b""))
    return out


async def produce_sample(config: Config, records: list[SampleRecord]) -> None:
    topic = {"posts": config.topics.posts, "reports": config.topics.reports}
    await produce(config.kafka.bootstrap_servers,
                  [(topic[r.topic_kind], r.key, r.value) for r in records])


async def uncovered_commits(core: FilterCore, config: Config) -> list[str]:
    """The at-least-once invariant: every input record below its partition's committed offset
    must have all its outputs on the output topics. Returns the violations (empty is good)."""
    committed = await committed_offsets(config.kafka.bootstrap_servers, config.kafka.group_id,
                                        [config.topics.posts, config.topics.reports])
    inputs: list[Record] = await read_all(config.kafka.bootstrap_servers,
                                          [config.topics.posts, config.topics.reports])
    produced = {(r.topic, output_id(r.value or b""))
                for r in await read_all(config.kafka.bootstrap_servers, output_topics(config))}
    kind = {config.topics.posts: "posts", config.topics.reports: "reports"}
    missing = []
    for record in inputs:
        if record.offset >= committed.get(TopicPartition(record.topic, record.partition), 0):
            continue
        try:
            wanted = outputs_of(core, config, kind[record.topic], record.key, record.value or b"")
        except PoisonRecord:  # a DLQ record: its copy is checked by the DLQ tests
            continue
        missing += [f"{record.topic}[{record.partition}]@{record.offset} → {topic}"
                    for topic, ident in wanted if (topic, ident) not in produced]
    return missing


def http_get(url: str) -> tuple[int, str]:
    """Status and body of a GET on loopback (503 is a status, not an error)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:
        return 0, str(exc)


def metric(url: str, name: str) -> float | None:
    """One sample's value from a /metrics page."""
    _, body = http_get(url)
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None



