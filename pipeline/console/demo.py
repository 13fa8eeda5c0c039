"""The patrol console in the demo (`mimamori demo`): a console on the demo's broker with a
throw-away SQLite store and a demo account (demo mode only)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec
from prometheus_client import CollectorRegistry

from pipeline.config import Config
from pipeline.console.service import ConsoleService

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


async def start_demo_console(config: Config, registry: CollectorRegistry | None = None
                             ) -> DemoConsole:
    """Start a console on `config`'s broker (port `console.port`, or any free one when that is
    taken) with a fresh store and a chief account `demo` with a random password."""
    directory = Path(tempfile.mkdtemp(prefix="mimamori-demo-console-"))
    console = msgspec.structs.replace(
        config.console, store_url=f"sqlite:///{directory / 'console.db'}",
        group_id="mimamori-demo-console")
    service = ConsoleService(msgspec.structs.replace(config, console=console), registry)
    try:
        await service.start()
    except OSError:  # the port is taken: any free one will do for a demo
        service = ConsoleService(msgspec.structs.replace(
            config, console=msgspec.structs.replace(console, port=0)), registry)
        await service.start()
    password = secrets.token_urlsafe(12)
    assert service.store is not None
    await asyncio.to_thread(service.store.add_user, DEMO_USER, "chief", password,
                            frozenset({"*"}))
    return DemoConsole(service, DEMO_USER, password, directory)
