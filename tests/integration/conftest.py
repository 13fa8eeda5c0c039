"""Integration fixtures: one real embedded broker per session, fresh topics per test."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from pipeline.config import Config
from pipeline.kafka.embedded import EmbeddedBroker
from tests.processes import spawn

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """The embedded Tansu broker, started once, ready when metadata lists it."""
    embedded = EmbeddedBroker(startup_timeout_s=30)
    asyncio.run(embedded.start())
    try:
        yield embedded
    finally:
        embedded.stop()


def fresh_config(bootstrap_servers: str, **worker: object) -> Config:
    """A config whose topics and group are unique to one test."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    base = Config()
    topics = msgspec.structs.replace(
        base.topics, posts=prefix + "posts", reports=prefix + "reports",
        review_prefix=prefix + "review.", decisions=prefix + "decisions",
        violations=prefix + "violations", actions=prefix + "actions",
        ledger=prefix + "ledger", partitions=4,
    )
    kafka = msgspec.structs.replace(
        base.kafka, bootstrap_servers=bootstrap_servers, group_id=prefix + "group",
        session_timeout_ms=6000, heartbeat_interval_ms=1000,
    )
    enforcer = msgspec.structs.replace(base.enforcer, group_id=prefix + "enforcer")
    console = msgspec.structs.replace(base.console, group_id=prefix + "console")
    return msgspec.structs.replace(
        base, topics=topics, kafka=kafka, enforcer=enforcer, console=console,
        worker=msgspec.structs.replace(base.worker, **worker),
        wordlists=msgspec.structs.replace(base.wordlists, dir=str(ROOT / "wordlists")),
        metrics=msgspec.structs.replace(base.metrics, port=0),
    )


def start_worker(config: Config, log_path: Path) -> subprocess.Popen[bytes]:
    """`python -m pipeline run` as a real process, configured through the environment."""
    return spawn(["pipeline", "run"], config, log_path)
