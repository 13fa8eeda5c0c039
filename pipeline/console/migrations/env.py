"""Alembic environment: migrations run on the connection the store hands over (no alembic.ini;
the console migrates its store at start, `Store.migrate`)."""

from __future__ import annotations

from alembic import context

from pipeline.console.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
