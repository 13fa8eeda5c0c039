"""The I/O floor for benchmarks/e2e.py: consume, produce, acknowledge, commit; no filtering.

    MIMAMORI_...=... .venv/bin/python -m benchmarks.passthrough OUTPUT_TOPIC

One member of the configured consumer group over the configured input topics, built with the
worker's own client factories (same fetch sizes, batch size, linger, acks). For every fetched
batch it copies every record to OUTPUT_TOPIC, waits for all acknowledgements and then commits,
the delivery discipline of the filter worker without the filter. Runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import uvloop

from pipeline.config import load_config
from pipeline.kafka.clients import make_consumer, make_producer


async def passthrough(output_topic: str) -> None:
    config = load_config(None)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    producer = make_producer(config)
    consumer = make_consumer(config)
    consumer.subscribe([config.topics.posts, config.topics.reports])
    await producer.start()
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=config.kafka.fetch_max_wait_ms,
                                           max_records=config.worker.max_batch_records)
            if not batch:
                continue
            futures = [await producer.send(output_topic, r.value, key=r.key)
                       for records in batch.values() for r in records]
            await asyncio.gather(*futures)
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    uvloop.run(passthrough(sys.argv[1]))


if __name__ == "__main__":
    main()
