"""Uploaded files and which jobs took them as input."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TimestampMixin, UTCDateTime, id_column


class FileStatus(StrEnum):
    pending = "pending"  # created, the upload form handed out, not completed yet
    scanning = "scanning"  # completed; FileScanWorkflow is checking it
    ready = "ready"  # scanned clean, in the assets bucket
    rejected = "rejected"  # refused (reason_code), its object deleted


class FilePurpose(StrEnum):
    chat = "chat"
    image_input = "image_input"
    cv_photo = "cv_photo"
    document = "document"


class StoredFile(TimestampMixin, Base):
    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_user_created", "user_id", "created_at"),
        Index("ix_files_status_updated", "status", "updated_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)  # as the person named it
    content_type: Mapped[str] = mapped_column(String(127), nullable=False)  # declared
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)  # declared (checked by the scan)
    status: Mapped[str] = mapped_column(String(16), default=FileStatus.pending.value, nullable=False)
    reason_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(255), nullable=True)  # e.g. the signature name
    bucket: Mapped[str] = mapped_column(String(16), nullable=False)  # where the object is now
    key: Mapped[str] = mapped_column(String(400), nullable=False)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class JobFile(Base):
    """A file a job took as input (a chat turn's attachments, a CV photo, an image to edit)."""

    __tablename__ = "job_files"

    job_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
