"""cv: CVs and their versions

Revision ID: 0012
Revises: 0009 (merged from storage; 0006 on its own)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models.base import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0009"  # the integrator re-chains (brief: "0006")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cvs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cvs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cvs")),
    )
    op.create_index("ix_cvs_user_updated", "cvs", ["user_id", "updated_at"])
    op.create_table(
        "cv_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("cv_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cv_id"], ["cvs.id"], name=op.f("fk_cv_versions_cv_id_cvs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cv_versions")),
    )
    op.create_index("uq_cv_versions_cv_version", "cv_versions", ["cv_id", "version"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_cv_versions_cv_version", table_name="cv_versions")
    op.drop_table("cv_versions")
    op.drop_index("ix_cvs_user_updated", table_name="cvs")
    op.drop_table("cvs")
