from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TimestampMixin, id_column


class JobKind(StrEnum):
    chat = "chat"
    cv = "cv"
    slides = "slides"
    image = "image"
    video = "video"
    diagnostics = "diagnostics"
    file_scan = "file_scan"
    export = "export"  # a person's data export (core/data_export.py)


class JobStatus(StrEnum):
    pending = "pending"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class Job(TimestampMixin, Base):
    """One AI job: its workflow, status, error and what it cost per unit."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_user_created", "user_id", "created_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.pending.value, nullable=False)
    workflow_id: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    cost_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    cost_images: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    cost_videos: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # [{name, key, bucket, content_type, size}]: storage keys of what the job produced
    outputs: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
