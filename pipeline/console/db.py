"""The store's engine and transactions, one code path for SQLite and PostgreSQL (I/O shell).

Write transactions on SQLite begin with `BEGIN IMMEDIATE`, so the database's single writer is
taken before the first read and "read the next case, then claim it" cannot interleave with
another writer; on PostgreSQL the same statements run under `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.resources
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pipeline.console.schema import audit_log
from pipeline.errors import ConfigError

_WRITE = "mimamori_write"


def engine_url(url: str) -> sa.URL:
    """The SQLAlchemy URL of a store URL: `sqlite:///PATH` or `postgresql://...` (psycopg 3).

    Raises:
        ConfigError: neither SQLite nor PostgreSQL, or not a URL.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"console.store_url: not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ConfigError(f"console.store_url: expected sqlite:///PATH or postgresql://..., "
                      f"got {parsed.drivername}")


def redacted(url: str) -> str:
    """The store URL for logs, without its password."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid url>"


class StoreBase:
    """Engine, transactions, clock and the audit writer shared by the store's parts.

    Args:
        url: `sqlite:///PATH` or `postgresql://USER@HOST/DB`.
        schema: PostgreSQL only: keep every table in this schema (tests use a fresh one).
        clock: seconds since the epoch; tests move it to lapse leases.
        lease_s: how long a claim holds a case.
    """

    def __init__(self, url: str, *, schema: str | None = None,
                 clock: Callable[[], float] = time.time, lease_s: float = 600,
                 pool_size: int = 10) -> None:
        target = engine_url(url)
        self.clock = clock
        self.lease_s = lease_s
        self._count = threading.Lock()
        self._waiting = 0  # write transactions waiting for the writer lock
        self.backend = target.get_backend_name()
        if self.backend == "sqlite":
            if target.database in (None, "", ":memory:"):
                raise ConfigError("console.store_url: SQLite needs a file (sqlite:///PATH)")
            self.engine = sa.create_engine(
                target, connect_args={"timeout": 60, "check_same_thread": False},
                pool_size=pool_size, max_overflow=pool_size)
            sa.event.listen(self.engine, "connect", _sqlite_connect)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
            # SQLite has one writer. Writers of this process queue here and each is handed the
            # lock as the one before commits, in turn; left to SQLite's busy handler they
            # would poll with sleeps growing from 1 to 100 ms, newcomers overtaking them (the
            # "next case" p99 was seconds at 90 decisions/s). Other processes still meet the
            # busy timeout.
            self._writer: contextlib.AbstractContextManager[Any] = FifoLock()
            self._checkpointer: _Checkpointer | None = _Checkpointer(str(target.database),
                                                                    self._writer)
            self._checkpointer.start()
        else:
            connect_args: dict[str, Any] = {}
            if schema:
                connect_args["options"] = f"-c search_path={schema}"
            # No server-side prepared statements: a generic plan cannot hash an `IN (...)` list
            # of parameters, and the ingest's id look-ups then compare every row with every id
            # (160 ms instead of 3 ms per 500 ids, measured).
            connect_args["prepare_threshold"] = None
            self.engine = sa.create_engine(target, connect_args=connect_args,
                                           pool_size=pool_size, max_overflow=pool_size * 2,
                                           pool_pre_ping=True)
            self._writer = contextlib.nullcontext()  # row locks, SKIP LOCKED
            self._checkpointer = None
        self.schema = schema

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic); safe to run at every start."""
        if self.schema and self.backend == "postgresql":
            with self.engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        # Alembic logs a line per plugin and step at import and upgrade: noise at every start.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        location = importlib.resources.files("pipeline.console") / "migrations"
        cfg.set_main_option("script_location", str(location))
        with self.engine.begin() as conn:
            if self.backend == "postgresql":
                # Several console instances may start at once: one migrates, the others wait.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7355608)")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        """Release every pooled connection (SQLite: stop the checkpointer)."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction: committed when the block ends, rolled back on an error."""
        with self._count:
            self._waiting += 1
        try:
            self._writer.__enter__()
        finally:
            with self._count:
                self._waiting -= 1
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    yield conn
        finally:
            self._writer.__exit__(None, None, None)

    def writers_waiting(self) -> bool:
        """Whether another write transaction of this process waits for the one in progress
        (SQLite: a bulk write commits what it has and lets it in; PostgreSQL locks rows)."""
        return self._waiting > 0

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def now(self) -> float:
        """The store's clock."""
        return self.clock()

    def insert_rows(self, conn: sa.Connection, table: sa.Table,
                    rows: Sequence[dict[str, Any]]) -> None:
        """INSERT many rows of `table` (each with the same keys), inside the caller's
        transaction: COPY on PostgreSQL (3.3 times faster than an executemany INSERT of 5,000
        review items at a million cases, measured), an executemany INSERT on SQLite.

        Raises:
            sqlalchemy.exc.IntegrityError: a row's key exists (on both backends).
        """
        if not rows:
            return
        if self.backend != "postgresql":
            conn.execute(table.insert(), rows)
            return
        import psycopg
        from psycopg import sql

        columns = list(rows[0])
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        try:
            with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        except psycopg.IntegrityError as exc:
            raise sa.exc.IntegrityError(f"COPY {table.name}", None, exc) from exc

    def ids_in(self, column: sa.ColumnElement[str], ids: Sequence[str]
               ) -> sa.ColumnElement[bool]:
        """`column IN ids`; on PostgreSQL `column = ANY(array)`: one parameter instead of
        thousands, half the time per 2,000 ids (measured)."""
        if self.backend == "postgresql":
            return column == sa.any_(sa.bindparam(None, list(ids), type_=postgresql.ARRAY(
                sa.String)))
        return column.in_(ids)

    def insert_ignore(self, table: sa.Table) -> Any:
        """INSERT that skips rows whose key exists (replays are harmless)."""
        if self.backend == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def audit(self, conn: sa.Connection, actor_id: int | None, actor: str, action: str, *,
              case_id: str | None = None, target: str | None = None,
              detail: dict[str, Any] | None = None) -> None:
        """Append one row to the audit log, inside the caller's transaction."""
        conn.execute(audit_log.insert().values(
            ts=self.now(), actor_id=actor_id, actor=actor, action=action, case_id=case_id,
            target=target, detail=json.dumps(detail or {}, ensure_ascii=False,
                                             sort_keys=True)))


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (IMMEDIATE for writes).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    # No checkpoint inside a commit: the store's checkpointer thread copies the log back.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, fast
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    # A million cases are B-trees keyed by random ids: inserts touch pages all over the file,
    # and SQLite's default 2 MB page cache makes them wait on the disk (ingest 2x slower).
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB per connection
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


class FifoLock:
    """A lock handed to its waiters in the order they came, straight from the releasing
    thread. A `threading.Lock` is not fair: a thread that releases it and asks again at once
    (the ingest, slice after slice) mostly gets it back before the waiter it woke has run."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._held = False

    def __enter__(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            gate = threading.Lock()
            gate.acquire()
            self._waiters.append(gate)
        gate.acquire()  # released by the holder handing the lock over; it stays held

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


class _Checkpointer(threading.Thread):
    """Copies SQLite's write-ahead log back into the database file every `every_s`, beside the
    requests instead of in them.

    Left to SQLite, the commit that fills the log (1,000 pages: about 40 decisions at a
    million cases, each touching some 25 index and table pages) copies it back inside the
    write lock: 10-12 ms on one decision in forty, alone; 100 ms and more at the "next case"
    p99 under load. Here the copy runs beside the writers (PASSIVE: it waits for no one);
    then, holding the process's writer lock, a second pass copies the few pages written
    meanwhile, so the next writer finds the log fully copied and starts it over (the log
    would grow without end while writers keep appending to it).
    """

    def __init__(self, path: str, writer: contextlib.AbstractContextManager[Any],
                 every_s: float = 1.0) -> None:
        super().__init__(name="sqlite-checkpointer", daemon=True)
        self.path = path
        self.writer = writer
        self.every_s = every_s
        self.stopping = threading.Event()

    def run(self) -> None:
        import sqlite3

        conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False,
                               isolation_level=None)
        try:
            while not self.stopping.wait(self.every_s):
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as exc:  # busy, or the file is gone: try again later
                    logging.getLogger(__name__).debug("checkpoint: %s", exc)
        finally:
            conn.close()

    def checkpoint(self, conn: Any) -> None:
        """One round: copy the log beside the writers, then the rest under the writer lock."""
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames > 0:
            with self.writer:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def stop(self) -> None:
        """Stop after the current checkpoint (the last connection's close copies the rest)."""
        self.stopping.set()
        self.join()


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE)
                         else "BEGIN")
