"""The console's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are seconds since the epoch (float) so ordering and ages are plain arithmetic on both
backends. The migrations in migrations/versions create exactly these tables; a test compares
them.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
TS = sa.Float(precision=53)
ID = sa.String(32)  # stable_id: 32 hex digits
SITE = sa.String(128)
EXTERNAL = sa.String(256)  # user and post ids as the sites send them

users = sa.Table(
    "users", metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("mask_abusive", sa.Boolean, nullable=False, default=True),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("created_ts", TS, nullable=False),
)

user_sites = sa.Table(
    "user_sites", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id"), primary_key=True),
    sa.Column("site_id", SITE, primary_key=True),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False,
              index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_ts", TS, nullable=False),
    sa.Column("expires_ts", TS, nullable=False),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("failure_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("ts", TS, nullable=False),
    sa.Index("ix_login_failures_key_ts", "key", "ts"),
)

cases = sa.Table(
    "cases", metadata,
    sa.Column("case_id", ID, primary_key=True),
    sa.Column("site_id", SITE, nullable=False),
    sa.Column("post_id", EXTERNAL, nullable=False),
    sa.Column("user_id", EXTERNAL, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("queue", sa.String(64), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("item_priority", sa.Integer, nullable=False),
    sa.Column("reporters", sa.Integer, nullable=False),
    sa.Column("primary_item", ID, nullable=False),
    # open (in a queue) · escalated (in the leads' queue) · decided
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_ts", TS, nullable=False),
    sa.Column("updated_ts", TS, nullable=False),
    sa.Column("claim_id", ID),
    sa.Column("claimed_by", sa.Integer),
    sa.Column("lease_until", TS),
    sa.Column("decision_id", ID),
    sa.Column("decided_ts", TS),
    # "next case": the highest priority, then the oldest, of the open (or escalated) cases.
    sa.Index("ix_cases_next", "status", sa.text("priority DESC"), "created_ts"),
    sa.Index("ix_cases_queue_next", "status", "queue", sa.text("priority DESC"), "created_ts"),
    sa.Index("ix_cases_author", "site_id", "user_id"),
    # "Next case" within a reviewer's sites, and (covering, `queue` last) its queue page:
    # depth and oldest case per queue. Without it a reviewer of a site with no open case walks
    # every open case of every site in `ix_cases_next` (1.5 s at a million cases on SQLite,
    # inside the write lock).
    sa.Index("ix_cases_site_next", "site_id", "status", sa.text("priority DESC"), "created_ts",
             "queue"),
    # Only the few claimed cases: free for the ingest's inserts.
    sa.Index("ix_cases_claimed_by", "claimed_by", sqlite_where=sa.text("claimed_by IS NOT NULL"),
             postgresql_where=sa.text("claimed_by IS NOT NULL")),
)

# The ingest's tables keep no foreign key to `cases`: the ingest writes a case and its items in
# one transaction, and a key check per row is a random index look-up more per item (PostgreSQL
# ingest ran at half speed with them at a million cases).
case_categories = sa.Table(
    "case_categories", metadata,
    sa.Column("case_id", ID, primary_key=True),
    sa.Column("category", sa.String(64), primary_key=True),
)

review_items = sa.Table(
    "review_items", metadata,
    sa.Column("item_id", ID, primary_key=True),
    sa.Column("case_id", ID, nullable=False, index=True),
    sa.Column("queue", sa.String(64), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("source", sa.String(8), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("hits", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("created_ts", TS, nullable=False),
    sa.Column("report_id", EXTERNAL),
    sa.Column("report_category", sa.String(32)),
    sa.Column("report_text", sa.Text),
    sa.Column("reporter_key", EXTERNAL),
    sa.Column("wordlist_version", sa.String(64), nullable=False),
    sa.Column("ingested_ts", TS, nullable=False),
)

claims = sa.Table(
    "claims", metadata,
    sa.Column("claim_id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False,
              index=True),
    sa.Column("claimed_ts", TS, nullable=False),
    sa.Column("lease_until", TS, nullable=False),
    sa.Column("ended_ts", TS),
    # decided · lapsed · released; null while held
    sa.Column("outcome", sa.String(16)),
)

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("decision_id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.case_id"), nullable=False, index=True),
    sa.Column("item_id", ID, nullable=False),
    sa.Column("site_id", SITE, nullable=False),
    sa.Column("user_id", EXTERNAL, nullable=False),
    sa.Column("post_id", EXTERNAL),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("duration_s", sa.Integer),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("reviewer", sa.String(64), nullable=False),
    sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False,
              index=True),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("overturns", ID),
    sa.Column("overturned_by", ID),
    sa.Column("claim_id", ID),
    sa.Column("claimed_ts", TS),
    sa.Column("decided_at", sa.String(40), nullable=False),
    sa.Column("decided_ts", TS, nullable=False, index=True),
)

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("outbox_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("decision_id", ID, nullable=False),
    sa.Column("topic", sa.String(249), nullable=False),
    sa.Column("key", sa.LargeBinary),
    sa.Column("value", sa.LargeBinary, nullable=False),
    sa.Column("created_ts", TS, nullable=False),
    sa.Column("sent_ts", TS),
    # A relay owns the rows it is publishing until this time (several console instances).
    sa.Column("relay_until", TS),
    sa.Index("ix_outbox_unsent", "outbox_id", sqlite_where=sa.text("sent_ts IS NULL"),
             postgresql_where=sa.text("sent_ts IS NULL")),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", TS, nullable=False, index=True),
    sa.Column("actor_id", sa.Integer),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("case_id", ID),
    sa.Column("target", sa.String(256)),
    sa.Column("detail", sa.Text, nullable=False),
)

history = sa.Table(
    "history", metadata,
    sa.Column("event_id", ID, primary_key=True),
    sa.Column("site_id", SITE, nullable=False),
    sa.Column("user_id", EXTERNAL, nullable=False),
    # action (from mod.actions) · violation (a strike, from mod.violations)
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("what", sa.String(16), nullable=False),
    sa.Column("post_id", EXTERNAL),
    sa.Column("categories", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("duration_s", sa.Integer),
    sa.Column("ts", TS, nullable=False),
    sa.Index("ix_history_user", "site_id", "user_id", "ts"),
)
