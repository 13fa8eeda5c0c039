"""Partition-local ledgers and their recovery from the `mod.ledger` changelog (I/O shell).

The changelog has the partitioning of the input topics (the same `site_id:user_id` keys, the
same partition count, the default partitioner), so the ledgers of input partition p are the
records of changelog partition p: an enforcer that is assigned p reads changelog partition p
from the beginning to its high watermark, the latest record per key winning. Values are kept
as the changelog's bytes and decoded when the user's next event comes, so restoring a
partition costs one dictionary entry per user. Committed ledgers are kept the same way, as the
bytes written to the changelog: a heap of bytes costs the garbage collector nothing to scan,
where a million users' ledgers as objects made its full collections take half of the
enforcer's time (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from pipeline.config import Config
from pipeline.enforcer.ledger import Ledger, decode_ledger
from pipeline.errors import PoisonRecord, TransientError
from pipeline.kafka.clients import kafka_client_options

log = logging.getLogger(__name__)


class LedgerStore:
    """The ledgers of the partitions this process owns: key -> the ledger's changelog value,
    per partition number."""

    def __init__(self) -> None:
        self._partitions: dict[int, dict[bytes, bytes]] = {}
        #: One restore at a time: the loop may hand a batch of a new partition to `process`
        #: while the rebalance listener is still restoring it; the batch waits for that
        #: restore instead of reading the partition a second time.
        self.restoring = asyncio.Lock()

    def partitions(self) -> set[int]:
        """Partition numbers whose ledgers are loaded."""
        return set(self._partitions)

    def get(self, partition: int, key: bytes) -> Ledger | None:
        """The ledger of a user, or None if the user has none.

        Raises:
            PoisonRecord: the changelog held a value that is not a ledger.
        """
        found = self._partitions[partition].get(key)
        return decode_ledger(found) if found is not None else None

    def load(self, partition: int, ledgers: dict[bytes, bytes]) -> None:
        """Install a partition's restored ledgers."""
        self._partitions[partition] = ledgers

    def put(self, changes: Mapping[tuple[int, bytes], bytes]) -> None:
        """Apply a committed batch's ledgers, encoded (of partitions still owned)."""
        for (partition, key), ledger in changes.items():
            ledgers = self._partitions.get(partition)
            if ledgers is not None:
                ledgers[key] = ledger

    def drop(self, partitions: Iterable[int]) -> None:
        """Forget partitions that moved to another enforcer."""
        for partition in partitions:
            self._partitions.pop(partition, None)

    def users(self) -> int:
        """Users held, over every partition."""
        return sum(len(ledgers) for ledgers in self._partitions.values())


async def read_changelog(config: Config, partitions: Iterable[int], *,
                         max_backoff_s: float = 5.0) -> dict[int, dict[bytes, bytes]]:
    """Read changelog partitions from the beginning to their high watermarks.

    Returns:
        Per partition, key -> latest value (keys whose latest record is a tombstone omitted).

    Broker trouble is retried with backoff until the partitions are read: an enforcer must not
    process a partition whose ledgers it does not have.
    """
    wanted = sorted(set(partitions))
    backoff = config.kafka.retry_backoff_ms / 1000
    while True:
        try:
            return await _read_once(config, wanted)
        except (KafkaError, TransientError, OSError) as exc:
            log.warning("restoring ledger partitions %s failed (%s); retrying in %.1fs",
                        wanted, exc or type(exc).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff_s)


async def _read_once(config: Config, wanted: list[int]) -> dict[int, dict[bytes, bytes]]:
    topic = config.topics.ledger
    out: dict[int, dict[bytes, bytes]] = {p: {} for p in wanted}
    if not wanted:
        return out
    consumer = AIOKafkaConsumer(
        **kafka_client_options(config.kafka), client_id=f"{config.kafka.client_id}-restore",
        enable_auto_commit=False, auto_offset_reset="earliest",
        fetch_max_bytes=config.kafka.fetch_max_bytes,
        max_partition_fetch_bytes=config.kafka.max_partition_fetch_bytes,
        request_timeout_ms=config.kafka.request_timeout_ms)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in wanted]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        remaining = set(tps)
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=200, max_records=50_000)
            for tp, records in batch.items():
                ledgers = out[tp.partition]
                for record in records:
                    if record.key is None:
                        continue
                    if record.value is None:
                        ledgers.pop(record.key, None)
                    else:
                        ledgers[record.key] = record.value
            for tp in list(remaining):
                highwater = consumer.highwater(tp)
                if highwater is not None and await consumer.position(tp) >= highwater:
                    remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


async def restore(config: Config, store: LedgerStore, partitions: Iterable[int]) -> float:
    """Restore the ledgers of `partitions` not loaded yet into `store`; returns the seconds it
    took (0 when there was nothing to restore)."""
    async with store.restoring:
        missing = set(partitions) - store.partitions()
        if not missing:
            return 0.0
        started = time.perf_counter()
        restored = await read_changelog(config, missing)
        for partition, ledgers in restored.items():
            store.load(partition, ledgers)
        elapsed = time.perf_counter() - started
    log.info("restored %d ledger(s) of partition(s) %s from %s in %.2fs",
             sum(len(v) for v in restored.values()), sorted(missing), config.topics.ledger,
             elapsed)
    return elapsed


def check_ledger(store: LedgerStore, partition: int, key: bytes) -> Ledger | None:
    """`store.get`, with a corrupt changelog value treated as no ledger (logged): a bad record
    must not block the user's partition forever."""
    try:
        return store.get(partition, key)
    except PoisonRecord as exc:
        log.error("ledger record of a user in partition %d is unreadable (%s); starting a new "
                  "ledger for the user", partition, exc.message)
        return None
