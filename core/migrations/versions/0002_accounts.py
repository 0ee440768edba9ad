"""accounts: sessions, magic-link tokens, personal API keys, email deliveries

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, core.models.base.UTCDateTime(timezone=True), nullable=nullable)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        _user_fk("sessions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index("ix_sessions_user_created", "sessions", ["user_id", "created_at"], unique=False)
    op.create_table(
        "magic_link_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        _user_fk("magic_link_tokens"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_magic_link_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_magic_link_tokens_token_hash")),
    )
    op.create_index(
        "ix_magic_link_tokens_user_created", "magic_link_tokens", ["user_id", "created_at"], unique=False
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("last_used_at", nullable=True),
        _when("revoked_at", nullable=True),
        _user_fk("api_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index("ix_api_keys_user_created", "api_keys", ["user_id", "created_at"], unique=False)
    op.create_table(
        "email_deliveries",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("provider_message_id", sa.String(length=300), nullable=False),
        _when("sent_at"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_email_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("email_deliveries")
    op.drop_index("ix_api_keys_user_created", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index("ix_magic_link_tokens_user_created", table_name="magic_link_tokens")
    op.drop_table("magic_link_tokens")
    op.drop_index("ix_sessions_user_created", table_name="sessions")
    op.drop_table("sessions")
