"""The `console` command (I/O shell): the web app under uvicorn, the ingest from Kafka, the
outbox relay to `mod.decisions`, and a refresher that returns lapsed leases and sets the queue
gauges, all in one process. Run several against one PostgreSQL store behind a load balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
from prometheus_client import CollectorRegistry

from pipeline.config import Config
from pipeline.console import cases as rules
from pipeline.console.db import redacted
from pipeline.console.ingest import Ingest
from pipeline.console.metrics import ConsoleMetrics
from pipeline.console.outbox import Relay
from pipeline.console.store import Store, open_store
from pipeline.console.web.app import create_app, sla_of
from pipeline.telemetry.metrics import LoopMetrics, register_process, serve

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The console handles SIGTERM/SIGINT itself and stops every part in order.
        yield


class ConsoleService:
    """Web app, ingest, relay and refresher of one console process.

    Args:
        config: the whole configuration (`console`, `kafka`, `topics`, `policy`).
        registry: metrics registry (a fresh one per test).
    """

    def __init__(self, config: Config, registry: CollectorRegistry | None = None,
                 loop_metrics: LoopMetrics | None = None) -> None:
        self.config = config
        self.metrics = ConsoleMetrics(registry)
        # The loop's families: shared when the process has them already (the demo's).
        self.loop_metrics = loop_metrics or LoopMetrics(self.metrics.registry)
        self.store: Store | None = None
        self.server: _Server | None = None
        self.relay: Relay | None = None
        self.ingest: Ingest | None = None
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.port = 0

    def ready(self) -> tuple[bool, str]:
        """For /ready: the ingest's broker connection."""
        if self.ingest is None:
            return False, "starting"
        return self.ingest.ready()

    @property
    def url(self) -> str:
        """Where the web app listens."""
        return f"http://{self.config.console.host}:{self.port}"

    async def start(self, *, ingest: bool = True) -> None:
        """Open and migrate the store, then start every part; returns once the web app
        listens."""
        c = self.config.console
        self.store = await asyncio.to_thread(
            open_store, c.store_url, lease_s=c.lease_s,
            reporter_priority_step=c.reporter_priority_step)
        log.info("console store: %s", redacted(c.store_url))
        self.relay = Relay(self.config, self.store, self.metrics)
        app = create_app(self.config, self.store, self.metrics,
                         on_decision=self.relay.wake.set)
        self.server = _Server(uvicorn.Config(
            app, host=c.host, port=c.port, log_level="warning", lifespan="off",
            server_header=False, access_log=False, timeout_graceful_shutdown=5))
        self.tasks.append(asyncio.create_task(self.server.serve()))
        while not self.server.started:
            if self.tasks[0].done():
                self.tasks[0].result()  # the server failed to start: raise its error
            await asyncio.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.tasks.append(asyncio.create_task(self.relay.run(self.stopping)))
        self.tasks.append(asyncio.create_task(self._refresh()))
        if ingest:
            self.ingest = Ingest(self.config, self.store, self.loop_metrics)
            self.tasks.append(asyncio.create_task(self.ingest.run(self.stopping)))

    async def stop(self) -> None:
        """Stop every part: the web app first, then ingest and relay, then the store."""
        self.stopping.set()
        if self.server is not None:
            self.server.should_exit = True
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.store is not None:
            self.store.close()

    async def refresh_once(self) -> None:
        """Return lapsed leases to their queues and set the gauges."""
        store = self.store
        assert store is not None
        lapsed = await asyncio.to_thread(store.sweep_lapsed)
        if lapsed:
            self.metrics.leases_lapsed.inc(lapsed)
        stats = await asyncio.to_thread(store.queue_stats, None)
        now = store.now()
        p = self.config.policy
        queues = {p.urgent_queue, p.standard_queue, p.reports_queue, rules.ESCALATED}
        queues |= {s.queue for s in stats}
        by_queue = {s.queue: s for s in stats}
        for queue in sorted(queues):
            stat = by_queue.get(queue)
            self.metrics.queue_depth.labels(queue).set(stat.depth if stat else 0)
            oldest = stat.oldest_ts if stat else None
            self.metrics.queue_oldest_age.labels(queue).set(
                max(0.0, now - oldest) if oldest is not None else 0)
            sla = sla_of(self.config, queue)
            if sla is not None:
                self.metrics.queue_sla.labels(queue).set(sla)
        self.metrics.active_reviewers.set(await asyncio.to_thread(store.active_reviewers))
        backlog, oldest_age = await asyncio.to_thread(store.outbox_backlog)
        self.metrics.outbox_backlog.set(backlog)
        self.metrics.outbox_oldest_age.set(oldest_age)

    async def _refresh(self) -> None:
        every = self.config.console.refresh_interval_ms / 1000
        while not self.stopping.is_set():
            try:
                await self.refresh_once()
            except Exception:  # a database hiccup must not end the refresher
                log.exception("console refresh failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), every)


async def run_console(config: Config) -> None:
    """The `console` command: serve until SIGTERM/SIGINT."""
    from pipeline.filter.service import freeze_heap, stop_on_signals

    service = ConsoleService(config)
    register_process(service.metrics.registry)  # CPU, memory and open files for the SRE board
    await service.start()
    # Full collections then skip what start-up made (modules, the app, the tables) instead of
    # stalling the requests in flight (84 ms once under load, at the "next case" p99).
    freeze_heap()
    serve(service.metrics.registry, config.metrics.host, config.metrics.port,
          ready=service.ready)
    log.info("patrol console on %s (ingest group %r, decisions to %s)", service.url,
             config.console.group_id, config.topics.decisions)
    stop = asyncio.Event()
    stop_on_signals(stop)
    await stop.wait()
    await service.stop()
