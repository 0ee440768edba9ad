"""Accounts: sign-in sessions, magic-link tokens, personal API keys and email deliveries.

Secrets (magic-link tokens, API keys) are stored only as sha256 hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, id_column, utcnow


class AuthSession(Base):
    """A signed-in browser or client; the JWT carries its id, so revoking the row revokes the JWT."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_created", "user_id", "created_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    ip: Mapped[str] = mapped_column(String(64), default="", nullable=False)


class MagicLinkToken(Base):
    """A single-use sign-in link; only the sha256 of the token is kept."""

    __tablename__ = "magic_link_tokens"
    __table_args__ = (Index("ix_magic_link_tokens_user_created", "user_id", "created_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiKey(Base):
    """A personal API key: shown once, then known by its visible prefix and its hash."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_created", "user_id", "created_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    prefix: Mapped[str] = mapped_column(String(32), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EmailDelivery(Base):
    """One row per delivered email, keyed by its workflow id: a retried send is skipped."""

    __tablename__ = "email_deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    backend: Mapped[str] = mapped_column(String(16), nullable=False)
    provider_message_id: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
