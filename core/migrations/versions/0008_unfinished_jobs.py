"""jobs: a partial index on the unfinished ones, for the sweeper that repairs orphaned rows

Revision ID: 0008
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = sa.text("status IN ('pending', 'running')")


def upgrade() -> None:
    op.create_index(
        "ix_jobs_unfinished_updated",
        "jobs",
        ["updated_at"],
        postgresql_where=UNFINISHED,
        sqlite_where=UNFINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_unfinished_updated", table_name="jobs")
