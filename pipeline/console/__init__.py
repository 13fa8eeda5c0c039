"""The patrol console: review queues, claims, decisions and the accounts of patrol staff.

Pure: settings.py (configuration), cases.py (merging, priority, highlight segments, decision
rules), i18n.py (message catalog). Shell: schema.py and store.py (SQLAlchemy, SQLite or
PostgreSQL, Alembic migrations), ingest.py (review items, actions and violations in),
outbox.py (decisions out to Kafka), metrics.py, web/ (the Starlette app), service.py (the
`console` command), commands.py (`console` and `users` on the command line).
"""
