from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TimestampMixin, UTCDateTime, id_column, utcnow


class Cv(TimestampMixin, Base):
    """A user's CV; its content lives in versions (every save adds one)."""

    __tablename__ = "cvs"
    __table_args__ = (Index("ix_cvs_user_updated", "user_id", "updated_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    locale: Mapped[str] = mapped_column(String(8), default="ar", nullable=False)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)


class CvVersion(Base):
    """One saved state of a CV (the whole document, JSON Resume-compatible)."""

    __tablename__ = "cv_versions"
    __table_args__ = (Index("uq_cv_versions_cv_version", "cv_id", "version", unique=True),)

    id: Mapped[str] = id_column()
    cv_id: Mapped[str] = mapped_column(String(32), ForeignKey("cvs.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
