"""images: the gallery (one row per stored output) and provider predictions

Revision ID: 0013
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("thumb_key", sa.String(length=400), nullable=False),
        sa.Column("source_image_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_images_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_images_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
    )
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index("ix_images_user_created", ["user_id", "created_at"], unique=False)
        batch_op.create_index("uq_images_job_index", ["job_id", "position"], unique=True)
    op.create_table(
        "image_predictions",
        sa.Column("prediction_id", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_image_predictions_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("prediction_id", name=op.f("pk_image_predictions")),
        sa.UniqueConstraint("job_id", name=op.f("uq_image_predictions_job_id")),
    )


def downgrade() -> None:
    op.drop_table("image_predictions")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("uq_images_job_index")
        batch_op.drop_index("ix_images_user_created")
    op.drop_table("images")
