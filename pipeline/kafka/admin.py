"""Topic set-up on a cluster (I/O shell): every topic mimamori reads or writes, created with the
configured partition count where missing."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from pipeline.config import Config
from pipeline.kafka.clients import kafka_client_options


def topic_names(config: Config) -> list[str]:
    """Every topic mimamori reads or writes, DLQs included."""
    t, p = config.topics, config.policy
    inputs = [t.posts, t.reports, t.decisions, t.violations]
    outputs = [t.actions] + [t.review(q) for q in (p.urgent_queue, p.standard_queue,
                                                   p.reports_queue)]
    return inputs + outputs + [t.dlq(name) for name in inputs]


async def ensure_topics(config: Config, names: Iterable[str] | None = None) -> list[str]:
    """Create the topics that do not exist yet, with the configured partition count.

    Returns:
        The names that were created.
    """
    wanted = list(names) if names is not None else topic_names(config)
    admin = AIOKafkaAdminClient(**kafka_client_options(config.kafka),
                                client_id=config.kafka.client_id)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        if missing:
            await admin.create_topics([
                NewTopic(n, config.topics.partitions, config.topics.replication_factor)
                for n in missing
            ])
        return missing
    finally:
        await admin.close()
