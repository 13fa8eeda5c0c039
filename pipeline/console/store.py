"""The console's store: one class over SQLite or PostgreSQL (I/O shell). See db.py for the
engine and transactions, accounts.py, queue.py, views.py and outbox.py for its parts."""

from __future__ import annotations

from pipeline.console.outbox import OutboxMixin
from pipeline.console.views import ViewsMixin


class Store(ViewsMixin, OutboxMixin):
    """Accounts, cases, claims, decisions, outbox, audit log and history in one database."""


def open_store(url: str, *, lease_s: float = 600, reporter_priority_step: int = 5,
               schema: str | None = None) -> Store:
    """Open a store and migrate it to the newest schema."""
    store = Store(url, lease_s=lease_s, schema=schema)
    store.reporter_priority_step = reporter_priority_step
    store.migrate()
    return store
