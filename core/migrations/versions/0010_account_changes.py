"""accounts: email changes confirmed by a link to the new address, deletion with a grace period

Revision ID: 0010
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models.base import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_changes",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column(
            "user_id", sa.String(length=32), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("new_email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_email_changes_user", "email_changes", ["user_id"])
    # plain ADD COLUMN (SQLite too): a batch copy of users would drop its lower(email) index
    op.add_column("users", sa.Column("delete_after", UTCDateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("deleted_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "deleted_at")  # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 too)
    op.drop_column("users", "delete_after")
    op.drop_index("ix_email_changes_user", table_name="email_changes")
    op.drop_table("email_changes")
