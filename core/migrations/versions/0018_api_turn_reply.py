"""api turns: the reply's text, kept for an hour

An OpenAI-API turn whose stream events were lost (Redis came back without them) is answered from
the stored reply; the text is forgotten an hour after the turn (core.apiturns.forget_replies).

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


KEPT = sa.text("reply IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("api_turns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply", sa.Text(), nullable=True))
    # the sweeper's round finds the texts to forget without reading the whole table
    op.create_index(
        "ix_api_turns_reply_created", "api_turns", ["created_at"], postgresql_where=KEPT, sqlite_where=KEPT
    )


def downgrade() -> None:
    op.drop_index("ix_api_turns_reply_created", table_name="api_turns")
    with op.batch_alter_table("api_turns", schema=None) as batch_op:
        batch_op.drop_column("reply")
