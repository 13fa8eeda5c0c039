"""The console's first schema: accounts, sessions, cases and their items, claims, decisions,
the outbox, the append-only audit log and the users' history.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

# The audit log is append-only in the database itself, not only in the code that writes it.
_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    ],
}


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('audit_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ts', sa.Float(precision=53), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=True),
    sa.Column('target', sa.String(length=256), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('audit_id')
    )
    op.create_index(op.f('ix_audit_log_ts'), 'audit_log', ['ts'], unique=False)
    op.create_table('cases',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('site_id', sa.String(length=128), nullable=False),
    sa.Column('post_id', sa.String(length=256), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('item_priority', sa.Integer(), nullable=False),
    sa.Column('reporters', sa.Integer(), nullable=False),
    sa.Column('primary_item', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_ts', sa.Float(precision=53), nullable=False),
    sa.Column('updated_ts', sa.Float(precision=53), nullable=False),
    sa.Column('claim_id', sa.String(length=32), nullable=True),
    sa.Column('claimed_by', sa.Integer(), nullable=True),
    sa.Column('lease_until', sa.Float(precision=53), nullable=True),
    sa.Column('decision_id', sa.String(length=32), nullable=True),
    sa.Column('decided_ts', sa.Float(precision=53), nullable=True),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.create_index('ix_cases_author', 'cases', ['site_id', 'user_id'], unique=False)
    op.create_index('ix_cases_claimed_by', 'cases', ['claimed_by'], unique=False,
                    sqlite_where=sa.text('claimed_by IS NOT NULL'),
                    postgresql_where=sa.text('claimed_by IS NOT NULL'))
    op.create_index('ix_cases_site_queue', 'cases', ['site_id', 'status', 'queue', 'created_ts'],
                    unique=False)
    op.create_index('ix_cases_next', 'cases', ['status', sa.text('priority DESC'), 'created_ts'])
    op.create_index('ix_cases_queue_next', 'cases',
                    ['status', 'queue', sa.text('priority DESC'), 'created_ts'])
    op.create_table('history',
    sa.Column('event_id', sa.String(length=32), nullable=False),
    sa.Column('site_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('what', sa.String(length=16), nullable=False),
    sa.Column('post_id', sa.String(length=256), nullable=True),
    sa.Column('categories', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=True),
    sa.Column('ts', sa.Float(precision=53), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index('ix_history_user', 'history', ['site_id', 'user_id', 'ts'], unique=False)
    op.create_table('login_failures',
    sa.Column('failure_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('ts', sa.Float(precision=53), nullable=False),
    sa.PrimaryKeyConstraint('failure_id')
    )
    op.create_index('ix_login_failures_key_ts', 'login_failures', ['key', 'ts'], unique=False)
    op.create_table('outbox',
    sa.Column('outbox_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('decision_id', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=249), nullable=False),
    sa.Column('key', sa.LargeBinary(), nullable=True),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('created_ts', sa.Float(precision=53), nullable=False),
    sa.Column('sent_ts', sa.Float(precision=53), nullable=True),
    sa.Column('relay_until', sa.Float(precision=53), nullable=True),
    sa.PrimaryKeyConstraint('outbox_id')
    )
    op.create_index('ix_outbox_unsent', 'outbox', ['outbox_id'], unique=False,
                    sqlite_where=sa.text('sent_ts IS NULL'),
                    postgresql_where=sa.text('sent_ts IS NULL'))
    op.create_table('users',
    sa.Column('user_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('mask_abusive', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('created_ts', sa.Float(precision=53), nullable=False),
    sa.PrimaryKeyConstraint('user_id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('case_categories',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'category')
    )
    op.create_table('claims',
    sa.Column('claim_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('claimed_ts', sa.Float(precision=53), nullable=False),
    sa.Column('lease_until', sa.Float(precision=53), nullable=False),
    sa.Column('ended_ts', sa.Float(precision=53), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], ),
    sa.PrimaryKeyConstraint('claim_id')
    )
    op.create_index(op.f('ix_claims_case_id'), 'claims', ['case_id'], unique=False)
    op.create_index(op.f('ix_claims_user_id'), 'claims', ['user_id'], unique=False)
    op.create_table('decisions',
    sa.Column('decision_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=False),
    sa.Column('site_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=False),
    sa.Column('post_id', sa.String(length=256), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('overturns', sa.String(length=32), nullable=True),
    sa.Column('overturned_by', sa.String(length=32), nullable=True),
    sa.Column('claim_id', sa.String(length=32), nullable=True),
    sa.Column('claimed_ts', sa.Float(precision=53), nullable=True),
    sa.Column('decided_at', sa.String(length=40), nullable=False),
    sa.Column('decided_ts', sa.Float(precision=53), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.user_id'], ),
    sa.PrimaryKeyConstraint('decision_id')
    )
    op.create_index(op.f('ix_decisions_case_id'), 'decisions', ['case_id'], unique=False)
    op.create_index(op.f('ix_decisions_decided_ts'), 'decisions', ['decided_ts'], unique=False)
    op.create_index(op.f('ix_decisions_reviewer_id'), 'decisions', ['reviewer_id'], unique=False)
    op.create_table('review_items',
    sa.Column('item_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('hits', sa.Text(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.Column('created_ts', sa.Float(precision=53), nullable=False),
    sa.Column('report_id', sa.String(length=256), nullable=True),
    sa.Column('report_category', sa.String(length=32), nullable=True),
    sa.Column('report_text', sa.Text(), nullable=True),
    sa.Column('reporter_key', sa.String(length=256), nullable=True),
    sa.Column('wordlist_version', sa.String(length=64), nullable=False),
    sa.Column('ingested_ts', sa.Float(precision=53), nullable=False),
    sa.PrimaryKeyConstraint('item_id')
    )
    op.create_index(op.f('ix_review_items_case_id'), 'review_items', ['case_id'], unique=False)
    op.create_table('sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_ts', sa.Float(precision=53), nullable=False),
    sa.Column('expires_ts', sa.Float(precision=53), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_sessions_user_id'), 'sessions', ['user_id'], unique=False)
    op.create_table('user_sites',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], ),
    sa.PrimaryKeyConstraint('user_id', 'site_id')
    )
    for statement in _APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for table in ("history", "audit_log", "outbox", "decisions", "claims", "review_items",
                  "case_categories", "cases", "login_failures", "sessions", "user_sites",
                  "users"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
