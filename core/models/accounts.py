"""Accounts: sign-in sessions, magic-link tokens, personal API keys and email deliveries.

Secrets (magic-link tokens, API keys) are stored only as sha256 hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
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
    # Limits set by the owner (None: no limit). A rotated key keeps them and its family: the
    # first key's id, which the monthly budget window is counted over (core.apikeys).
    family_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    monthly_budget: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # studio tokens
    monthly_image_budget: Mapped[int | None] = mapped_column(Integer, nullable=True)  # images units
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiTurn(Base):
    """A chat turn asked through the OpenAI-compatible API (its job row has the same id): which
    key asked, the request while it runs (cleared once answered: no stored conversation), the
    most it may cost (counted against the key's budget until the ledger holds it), its usage and,
    for an hour, its reply's text."""

    __tablename__ = "api_turns"
    __table_args__ = (
        Index("ix_api_turns_family_created", "family_id", "created_at"),
        # the texts still kept, by age (core.apiturns.forget_replies, every sweeper round)
        Index(
            "ix_api_turns_reply_created",
            "created_at",
            postgresql_where=text("reply IS NOT NULL"),
            sqlite_where=text("reply IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    api_key_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False
    )
    family_id: Mapped[str] = mapped_column(String(32), nullable=False)
    model: Mapped[str] = mapped_column(String(64), nullable=False)
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    max_studio_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    studio_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    stopped: Mapped[bool | None] = mapped_column(nullable=True)  # None until the reply is stored
    # the reply's text, for an answer whose stream events were lost; forgotten an hour after the
    # turn (core.apiturns.forget_replies, run by the job sweeper)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    end_user: Mapped[str] = mapped_column(String(256), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class ApiImageCall(Base):
    """An image job asked through the OpenAI-compatible API (its job row has the same id): which
    key asked and the most it may cost in ``images`` (counted against the key's image budget
    until the ledger holds it). What it made and was charged is the ledger's reservation."""

    __tablename__ = "api_image_calls"
    __table_args__ = (Index("ix_api_image_calls_family_created", "family_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    api_key_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False
    )
    family_id: Mapped[str] = mapped_column(String(32), nullable=False)
    model: Mapped[str] = mapped_column(String(64), nullable=False)
    max_images: Mapped[int] = mapped_column(Integer, nullable=False)
    end_user: Mapped[str] = mapped_column(String(256), default="", nullable=False)  # OpenAI's `user`
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class EmailDelivery(Base):
    """One row per delivered email, keyed by its workflow id: a retried send is skipped."""

    __tablename__ = "email_deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    backend: Mapped[str] = mapped_column(String(16), nullable=False)
    provider_message_id: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
