"""The enforcer's commands, `enforce` and `history` (I/O shell); `pipeline.cli` adds them."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from pipeline.config import Config

if TYPE_CHECKING:  # imported when a command runs: `scan` builds the same command line
    from pipeline.enforcer.history import History

COMMANDS = ("enforce", "history")

AddCommon = Callable[..., None]


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                 add_common: AddCommon) -> None:
    """Add `enforce` and `history` to the command line."""
    enforce = sub.add_parser(
        "enforce", help="run an enforcer (strike ledger, escalation ladder, patrol decisions)",
        description="Consume mod.violations and mod.decisions in the enforcer's consumer "
                    "group (enforcer.group_id), keep each user's strike ledger in "
                    "partition-local state backed by the mod.ledger changelog, and produce "
                    "actions (warn, suspend, expel; restore and lift after an overturn) to "
                    "mod.actions. Stops cleanly on SIGTERM/SIGINT.")
    add_common(enforce, kafka=True, lists=False)
    enforce.add_argument("--metrics-port", type=int, metavar="PORT",
                         help="port of /metrics and /ready (metrics.port; 0 turns it off)")
    history = sub.add_parser(
        "history", help="print a user's strikes and actions from the ledger",
        description="Read the user's latest ledger from the mod.ledger changelog and print "
                    "their strikes (active, expired, withdrawn), the actions issued with the "
                    "rule and reason for each, and recorded overturns. Text from the stream is "
                    "escaped, never interpreted by the terminal.")
    add_common(history, kafka=True, lists=False)
    history.add_argument("user", metavar="SITE:USER", help="the user, as site_id:user_id")
    history.add_argument("--json", action="store_true", help="print the history as JSON")


def dispatch(args: argparse.Namespace, config: Config) -> int:
    """Run `enforce` or `history`; returns the exit status."""
    import uvloop

    from pipeline.enforcer.history import format_history

    if args.command == "enforce":
        from pipeline.enforcer.service import run_service

        uvloop.run(run_service(config))
        return 0
    site_id, sep, user_id = args.user.partition(":")
    if not sep or not site_id or not user_id:
        print(f"mimamori: history takes SITE:USER, got {args.user!r}", file=sys.stderr)
        return 2
    view = uvloop.run(read_history(config, site_id, user_id, int(time.time())))
    if args.json:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(view)).decode() + "\n")
    else:
        sys.stdout.write(format_history(view))
    return 0


async def read_history(config: Config, site_id: str, user_id: str, now_s: int) -> History:
    """A user's history from the changelog: the user's partition read to its high watermark
    (the changelog is partitioned like the inputs, by the default partitioner of the key)."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.partitioner import DefaultPartitioner

    from pipeline.contract.ids import user_key
    from pipeline.enforcer.history import history_from_records
    from pipeline.enforcer.ladder import Ladders
    from pipeline.kafka.clients import kafka_client_options
    from pipeline.kafka.topicio import read_range

    key = user_key(site_id, user_id)
    connection = kafka_client_options(config.kafka)
    topic = config.topics.ledger
    consumer = AIOKafkaConsumer(**connection, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
    finally:
        await consumer.stop()
    values: list[bytes | None] = []
    if partitions:
        partition = DefaultPartitioner()(key, partitions, partitions)
        records = await read_range(connection, [topic], partitions=[partition])
        values = [r.value for r in records if r.key == key]
    return history_from_records(values, site_id, user_id, now_s, Ladders(config.ladder))
