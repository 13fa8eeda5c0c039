""""Next case" by site: `ix_cases_site_next` (site, status, priority DESC, age, queue) replaces
`ix_cases_site_queue`, so a reviewer's claim reads its own sites' open cases in order instead
of walking every site's (and the queue page still reads the index alone).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_site_next", "cases",
                    ["site_id", "status", sa.text("priority DESC"), "created_ts", "queue"])
    op.drop_index("ix_cases_site_queue", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_site_queue", "cases", ["site_id", "status", "queue", "created_ts"])
    op.drop_index("ix_cases_site_next", table_name="cases")
