from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, id_column, utcnow


class Locale(StrEnum):
    ar = "ar"
    en = "en"


class Role(StrEnum):
    user = "user"
    support = "support"
    admin = "admin"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_lower", func.lower("email"), unique=True),)

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    locale: Mapped[str] = mapped_column(String(2), default=Locale.ar.value, nullable=False)
    role: Mapped[str] = mapped_column(String(16), default=Role.user.value, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # account deletion: scheduled (grace period, undoable) until delete_after, erased at deleted_at
    delete_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
