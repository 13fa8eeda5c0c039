"""The producer's partitioner is the default one (murmur2 of the key, as the Java client), with
each key's hash remembered."""

from __future__ import annotations

import asyncio

from aiokafka.partitioner import DefaultPartitioner

from pipeline.config import Config
from pipeline.kafka.clients import KeyHashCache, make_producer


def test_every_key_lands_where_the_default_partitioner_puts_it() -> None:
    cache = KeyHashCache(max_keys=50)  # small: the cache is cleared several times over
    default = DefaultPartitioner()
    keys = [f"site-{s:02d}:u{u:05d}".encode() for s in range(3) for u in range(100)]
    keys += [b"", b"\x00", b"\xff" * 40, "サイト:ユーザー".encode()]
    for n in (1, 3, 8, 12):
        partitions = list(range(n))
        for key in keys + keys:  # the second time from the cache
            assert cache(key, partitions, partitions) == default(key, partitions, partitions)


def test_known_hashes_of_the_java_client() -> None:
    # murmur2 values the Java client's tests pin (Utils.murmur2, toPositive), mod 1000.
    cache = KeyHashCache()
    partitions = list(range(1000))
    assert cache(b"21", partitions, partitions) == (-973932308 & 0x7FFFFFFF) % 1000
    assert cache(b"foobar", partitions, partitions) == (-790332482 & 0x7FFFFFFF) % 1000
    assert cache(b"a-little-bit-long-string", partitions, partitions) == (
        -985981536 & 0x7FFFFFFF) % 1000


def test_a_keyless_record_goes_to_an_available_partition() -> None:
    assert KeyHashCache()(None, [0, 1, 2], [2]) == 2


def test_the_cache_stays_bounded() -> None:
    cache = KeyHashCache(max_keys=10)
    for i in range(1000):
        cache(str(i).encode(), [0, 1], [0, 1])
    assert len(cache._hashes) <= 10


def test_services_produce_with_it() -> None:
    async def partitioner() -> object:
        producer = make_producer(Config())
        try:
            return producer._partitioner
        finally:
            await producer.stop()

    assert isinstance(asyncio.run(partitioner()), KeyHashCache)
