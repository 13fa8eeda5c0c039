"""Console fixtures: a fresh store on SQLite and on PostgreSQL (a new schema per test).

PostgreSQL is the machine's server on 127.0.0.1:5432, database `test` (MIMAMORI_TEST_PG
overrides the URL). When it cannot be reached the PostgreSQL cases skip, except under CI=true,
where they fail: CI must test both stores.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest
import sqlalchemy as sa

from pipeline.console.roles import User
from pipeline.console.store import Store
from pipeline.contract.messages import Hit, ReviewItem

#: Still argon2id, at a cost that lets a test create fifty accounts in a moment.
CHEAP_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PG_URL = os.environ.get("MIMAMORI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


class Clock:
    """A clock the test moves (leases lapse without sleeping)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"),
                                  connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except sa.exc.OperationalError as exc:
        return str(exc).splitlines()[0]
    return None


def _require_postgres() -> None:
    problem = postgres_reachable()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable under CI=true: {problem}")
    pytest.skip(f"PostgreSQL at {PG_URL} is unreachable: {problem}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(URL, schema) of an empty store on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'console.db'}", None
        return
    _require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield PG_URL, schema
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(store_url: tuple[str, str | None], clock: Clock) -> Iterator[Store]:
    """A migrated store on each backend, with the test's clock and a 600 s lease."""
    url, schema = store_url
    s = Store(url, schema=schema, clock=clock, lease_s=600)
    s.hasher = CHEAP_HASHER
    s.migrate()
    yield s
    s.close()


def item(post: str, *, site: str = "site-a", source: str = "filter", priority: int = 50,
         queue: str = "standard", report: str | None = None, reporter: str | None = None,
         text: str = "お前しね", hits: list[Hit] | None = None, user: str = "u1",
         category: str | None = None, created_at: str = "2026-11-23T10:00:00Z") -> ReviewItem:
    """A review item as the filter writes it."""
    ident = f"{source}:{site}:{post}:{report or ''}"
    return ReviewItem(
        item_id=uuid.uuid5(uuid.NAMESPACE_OID, ident).hex, queue=queue, priority=priority,
        site_id=site, user_id=user, post_id=post, text=text,
        hits=hits if hits is not None else [Hit("しね", "ng", "abuse", 2, 4)],
        source="report" if report else "filter", created_at=created_at, report_id=report,
        report_category=category if report else None, report_text="ひどい" if report else None,
        reporter_id=reporter)


def add_user(store: Store, name: str, role: str = "staff", sites: str = "site-a") -> User:
    """An account (argon2 hashing is the slow part of these tests, so passwords are few)."""
    store.add_user(name, role, "correct horse battery", frozenset(sites.split(",")))
    found = store.get_user(name)
    assert found is not None
    return found
