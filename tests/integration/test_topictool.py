"""`mimamori produce` and `mimamori consume` against the real embedded broker."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest

from pipeline.config import to_environment
from pipeline.kafka.admin import TopicsReport, create_topics, ensure_topics, topic_names
from pipeline.kafka.embedded import EmbeddedBroker
from tests.cli import run_cli
from tests.integration.conftest import ROOT, fresh_config

pytestmark = pytest.mark.integration


def test_produce_then_consume_round_trips(broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers)
    asyncio.run(ensure_topics(config, [config.topics.posts]))
    topic, bootstrap = config.topics.posts, broker.bootstrap_servers
    lines = ('site-01:u42|{"post_id":"p1","text":"お前しね"}\n'
             "\n"  # blank lines are skipped
             "no-separator-here\n").encode()
    produced = run_cli("produce", "--bootstrap-servers", bootstrap, "--key-separator", "|",
                       topic, stdin=lines)
    assert produced.returncode == 0, produced.stderr
    assert produced.stderr.decode().strip() == f"produced 2 record(s) to {topic}"
    consumed = run_cli("consume", "--bootstrap-servers", bootstrap, "--from-beginning",
                       "--headers", topic)
    assert consumed.returncode == 0, consumed.stderr
    records = sorted((json.loads(line) for line in consumed.stdout.splitlines()),
                     key=lambda r: r["value"])
    assert [(r["key"], r["value"], r["headers"]) for r in records] == [
        (None, "no-separator-here", {}),
        ("site-01:u42", '{"post_id":"p1","text":"お前しね"}', {})]
    limited = run_cli("consume", "--bootstrap-servers", bootstrap, "--from-beginning",
                      "--max", "1", topic)
    assert len(limited.stdout.splitlines()) == 1


def test_consume_of_a_missing_topic_is_a_one_line_error(broker: EmbeddedBroker) -> None:
    result = run_cli("consume", "--bootstrap-servers", broker.bootstrap_servers,
                     "--from-beginning", "no.such.topic.x1")
    assert result.returncode == 1
    assert result.stderr.decode() == "mimamori: consume: no such topic: no.such.topic.x1\n"


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--topic", "no.such.topic.x2"], 1, "mimamori: dry-run: no such topic: no.such.topic.x2\n"),
    (["--topic", "{posts}", "--partition", "7"], 1,
     "mimamori: dry-run: {posts} has no partition [7] (partitions: [0, 1, 2, 3])\n"),
    (["--topic", "{posts}", "--from-offset", "-1"], 2,
     "mimamori: dry-run: offsets must satisfy 0 <= --from-offset <= --to-offset\n"),
    (["--topic", "{posts}", "--from-offset", "5", "--to-offset", "2"], 2,
     "mimamori: dry-run: offsets must satisfy 0 <= --from-offset <= --to-offset\n"),
])
def test_dry_run_bad_topic_arguments_are_one_line_errors(
        broker: EmbeddedBroker, args: list[str], code: int, message: str) -> None:
    config = fresh_config(broker.bootstrap_servers)
    asyncio.run(ensure_topics(config, [config.topics.posts]))
    posts = config.topics.posts
    result = run_cli("dry-run", "--bootstrap-servers", broker.bootstrap_servers,
                     "--wordlists", str(ROOT / "wordlists"), "--candidate",
                     str(ROOT / "wordlists"), *[a.format(posts=posts) for a in args])
    assert (result.returncode, result.stderr.decode()) == (code, message.format(posts=posts))


def test_create_topics_reports_what_it_created_and_partitions_short_of_the_config(
        broker: EmbeddedBroker) -> None:
    config = fresh_config(broker.bootstrap_servers)  # 4 partitions
    narrow = msgspec.structs.replace(config, topics=msgspec.structs.replace(
        config.topics, partitions=2))
    asyncio.run(ensure_topics(narrow, [config.topics.posts]))
    result = run_cli("create-topics", "--bootstrap-servers", broker.bootstrap_servers,
                     env=to_environment(config))
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0] == (f"warning: {config.topics.posts} has 2 partitions, topics.partitions "
                        "asks for 4; it caps the useful number of workers (Kafka can add "
                        "partitions, not remove them; adding them moves keys)")
    wanted = topic_names(config)
    assert lines[1] == (f"created {len(wanted) - 1} topic(s): "
                        f"{', '.join(n for n in wanted if n != config.topics.posts)}; "
                        "1 existed; 0 failed")
    again = run_cli("create-topics", "--bootstrap-servers", broker.bootstrap_servers,
                    env=to_environment(config))
    assert again.stdout.decode().splitlines()[-1] == (
        f"created 0 topic(s): -; {len(wanted)} existed; 0 failed")


def test_topics_another_client_creates_meanwhile_count_as_existing(
        broker: EmbeddedBroker) -> None:
    # Several clients create the same topics at once, as workers started together do (and a
    # broker that creates a topic on a consumer's metadata request): between one client's
    # listing and its create request another made the topic, and that is no failure.
    config = fresh_config(broker.bootstrap_servers)
    names = [config.topics.posts, config.topics.reports, config.topics.actions]

    async def race() -> list[TopicsReport]:
        return list(await asyncio.gather(*(create_topics(config, names) for _ in range(4))))

    reports = asyncio.run(race())
    assert [r.failed for r in reports] == [{}] * 4
    assert sorted(n for r in reports for n in r.created) == sorted(names)
    assert [sorted(r.created + r.existing) for r in reports] == [sorted(names)] * 4
