"""openai api: per-key limits and key families (rotation), api_turns

Revision ID: 0011
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("rpm_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tpm_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("monthly_budget", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("allowed_models", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("expires_at", core.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE api_keys SET family_id = id WHERE family_id IS NULL")
    op.create_table(
        "api_turns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("api_key_id", sa.String(length=32), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("request", sa.JSON(), nullable=True),
        sa.Column("max_studio_tokens", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("studio_tokens", sa.Integer(), nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=True),
        sa.Column("end_user", sa.String(length=256), nullable=False),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["jobs.id"], name=op.f("fk_api_turns_id_jobs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_turns_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_api_turns_api_key_id_api_keys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_turns")),
    )
    op.create_index("ix_api_turns_family_created", "api_turns", ["family_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_api_turns_family_created", table_name="api_turns")
    op.drop_table("api_turns")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        for column in (
            "expires_at",
            "allowed_models",
            "monthly_budget",
            "tpm_limit",
            "rpm_limit",
            "family_id",
        ):
            batch_op.drop_column(column)
