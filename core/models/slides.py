from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TimestampMixin, id_column


class SlideDeck(TimestampMixin, Base):
    """A slide deck: its brief, the outline (the model's, then the person's approved one), the
    job that builds it and its versions (every render or regenerated slide adds one)."""

    __tablename__ = "slide_decks"
    __table_args__ = (Index("ix_slide_decks_user_updated", "user_id", "updated_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    job_id: Mapped[str] = mapped_column(String(32), nullable=False)  # the deck's build job
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    title: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    # drafting → awaiting_outline → generating → ready | failed | expired | cancelled
    status: Mapped[str] = mapped_column(String(24), default="drafting", nullable=False)
    brief: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    outline: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # [{version, job_id, deck_key, slides: [{index, heading, layout, shortened, overflow}]}]
    versions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
