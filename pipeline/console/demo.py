"""The patrol console in the demo (`mimamori demo`): a console on the demo's broker with a
throw-away SQLite store and a demo account (demo mode only)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec
from prometheus_client import CollectorRegistry

from pipeline.config import Config
from pipeline.console.service import ConsoleService
from pipeline.telemetry.metrics import LoopMetrics

DEMO_USER = "demo"


@dataclass
class DemoConsole:
    """A running demo console and how to log in to it."""

    service: ConsoleService
    username: str
    password: str
    directory: Path

    @property
    def url(self) -> str:
        """The console's address."""
        return self.service.url

    async def wait_ingested(self, timeout_s: float = 60) -> int:
        """Wait until the ingest has cases in the queues; returns how many."""
        store = self.service.store
        assert store is not None
        deadline = time.monotonic() + timeout_s
        depth = 0
        while time.monotonic() < deadline:
            depth = sum(s.depth for s in await asyncio.to_thread(store.queue_stats, None))
            if depth and self.service.ingest is not None and self.service.ingest.committed:
                return depth
            await asyncio.sleep(0.2)
        return depth

    async def stop(self) -> None:
        """Stop the console and delete its store."""
        await self.service.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def _free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def start_demo_console(config: Config, registry: CollectorRegistry | None = None,
                             loop_metrics: LoopMetrics | None = None) -> DemoConsole:
    """Start a console on `config`'s broker (port `console.port`, or any free one when that is
    taken) with a fresh store and a chief account `demo` with a random password.

    Args:
        config: the demo's configuration (its broker, topics and policy).
        registry: where the console's metrics go (the demo's own, to serve them together).
        loop_metrics: the demo's loop metric families, bound to `service="console"`.
    """
    directory = Path(tempfile.mkdtemp(prefix="mimamori-demo-console-"))
    console = msgspec.structs.replace(
        config.console, store_url=f"sqlite:///{directory / 'console.db'}",
        group_id="mimamori-demo-console")
    if not _free(console.host, console.port):  # any free port will do for a demo
        console = msgspec.structs.replace(console, port=0)
    service = ConsoleService(msgspec.structs.replace(config, console=console), registry,
                             loop_metrics)
    await service.start()
    password = secrets.token_urlsafe(12)
    assert service.store is not None
    await asyncio.to_thread(service.store.add_user, DEMO_USER, "chief", password,
                            frozenset({"*"}))
    return DemoConsole(service, DEMO_USER, password, directory)
