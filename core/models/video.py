"""The video studio's row: one per video job, created with the job, filled as it goes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, utcnow


class Video(Base):
    """A video job's request, its provider job id (recorded the moment the provider accepted,
    so a retried submit never creates a second render) and, once stored, the file and poster."""

    __tablename__ = "videos"
    __table_args__ = (Index("ix_videos_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    model: Mapped[str] = mapped_column(String(64), nullable=False)
    prompt: Mapped[str] = mapped_column(Text, nullable=False)
    duration_s: Mapped[int] = mapped_column(Integer, nullable=False)  # requested
    aspect_ratio: Mapped[str] = mapped_column(String(8), nullable=False)
    provider_job_id: Mapped[str | None] = mapped_column(String(300), nullable=True, unique=True)
    key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    poster_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)  # bytes
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)  # read from the file
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
