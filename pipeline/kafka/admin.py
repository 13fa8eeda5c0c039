"""Topic set-up on a cluster (I/O shell): every topic mimamori reads or writes, created with the
configured partition count where missing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from pipeline.config import Config
from pipeline.errors import TransientError
from pipeline.kafka.clients import kafka_client_options


def topic_names(config: Config) -> list[str]:
    """Every topic mimamori reads or writes, with the DLQ of each topic a service reads."""
    t, p = config.topics, config.policy
    inputs = [t.posts, t.reports, t.decisions, t.violations]
    outputs = [t.actions] + [t.review(q) for q in (p.urgent_queue, p.standard_queue,
                                                   p.reports_queue)]
    read = inputs + outputs  # the console reads the review queues and the actions
    return inputs + outputs + [t.ledger] + [t.dlq(name) for name in read]


def topic_configs(config: Config, name: str) -> dict[str, str]:
    """Topic-level settings mimamori asks for when it creates `name`."""
    if name.endswith(config.topics.dlq_suffix):
        return {"max.message.bytes": str(config.topics.dlq_max_message_bytes)}
    if name == config.topics.ledger:
        # The enforcer's changelog: only the latest ledger per user matters.
        return {"cleanup.policy": "compact"}
    return {}


@dataclass
class TopicsReport:
    """What `create_topics` found and did.

    Attributes:
        created: topics created now.
        existing: topics that were there already.
        failed: topics the cluster refused to create, with its reason.
        short: existing topics with fewer partitions than `topics.partitions`, as
            (partitions, wanted): they cap the useful number of workers.
    """

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    short: dict[str, tuple[int, int]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """A line per topic that needs an operator's eye, then a summary."""
        out = [f"error: {name}: {reason}" for name, reason in sorted(self.failed.items())]
        out += [f"warning: {name} has {have} partitions, topics.partitions asks for {want}; "
                "it caps the useful number of workers (Kafka can add partitions, not remove "
                "them; adding them moves keys)"
                for name, (have, want) in sorted(self.short.items())]
        out.append(f"created {len(self.created)} topic(s): {', '.join(self.created) or '-'}; "
                   f"{len(self.existing)} existed; {len(self.failed)} failed")
        return out


async def create_topics(config: Config, names: Iterable[str] | None = None) -> TopicsReport:
    """Create the topics that do not exist yet (partitions, replication and topic settings as
    configured) and check the partition count of those that do."""
    wanted = list(names) if names is not None else topic_names(config)
    partitions = config.topics.partitions
    report = TopicsReport()
    admin = AIOKafkaAdminClient(**kafka_client_options(config.kafka),
                                client_id=config.kafka.client_id)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        report.existing = [n for n in wanted if n in existing]
        if missing:
            response = await admin.create_topics([
                NewTopic(n, partitions, config.topics.replication_factor,
                         topic_configs=topic_configs(config, n))
                for n in missing
            ])
            errors = list(getattr(response, "topic_errors", []))
            # A topic another client made since the listing (a broker that creates topics on
            # a consumer's metadata request, a second `create-topics`) exists: that is success.
            raced = [row[0] for row in errors if row[1] == TopicAlreadyExistsError.errno]
            report.failed = failures(row for row in errors if row[0] not in raced)
            report.created = [n for n in missing if n not in report.failed and n not in raced]
            report.existing += [n for n in missing if n in raced]
        if report.existing:
            for described in await admin.describe_topics(report.existing):
                have = len(described.get("partitions") or ())
                if have < partitions:
                    report.short[described["topic"]] = (have, partitions)
        return report
    finally:
        await admin.close()


def failures(topic_errors: Iterable[Sequence[Any]]) -> dict[str, str]:
    """The refused topics of a CreateTopics response, `(topic, error_code[, message])` rows
    (version 0 has no message), as `{topic: "ErrorName: message"}`."""
    out = {}
    for topic, code, *rest in topic_errors:
        if code:
            name = for_code(code).__name__
            out[topic] = f"{name}: {rest[0]}" if rest and rest[0] else name
    return out


async def ensure_topics(config: Config, names: Iterable[str] | None = None) -> list[str]:
    """`create_topics`, for the services and tools that need the topics to exist.

    Returns:
        The names that were created.

    Raises:
        TransientError: the cluster refused to create a topic.
    """
    report = await create_topics(config, names)
    if report.failed:
        raise TransientError("cannot create topics: " + "; ".join(
            f"{name}: {reason}" for name, reason in sorted(report.failed.items())))
    return report.created
