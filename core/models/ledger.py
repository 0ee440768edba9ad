"""Subscriptions and the quota ledger: grants, reservations (with the grants they hold),
an append-only entry for every change, and one lock row per user and unit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TimestampMixin, UTCDateTime, id_column, utcnow

BigInt = BigInteger().with_variant(Integer(), "sqlite")  # INTEGER PRIMARY KEY autoincrements on SQLite


class SubscriptionStatus(StrEnum):
    active = "active"
    past_due = "past_due"
    cancelled = "cancelled"


class GrantSource(StrEnum):
    plan = "plan"
    addon = "addon"
    adjust = "adjust"


class ReservationStatus(StrEnum):
    reserved = "reserved"
    settled = "settled"
    released = "released"


class EntryKind(StrEnum):
    grant = "grant"
    reserve = "reserve"
    settle = "settle"
    release = "release"
    adjust = "adjust"
    expire = "expire"
    warning = "warning"  # the 80 % email was requested (amount 0)


def _user_fk() -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


class Subscription(TimestampMixin, Base):
    """A user's plan and current period (one row per user)."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_period_end", "current_period_end"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    plan_id: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=SubscriptionStatus.active.value, nullable=False)
    current_period_start: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    current_period_end: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    registration_id: Mapped[str | None] = mapped_column(String(128), nullable=True)


class LedgerAccount(Base):
    """One row per user and unit; every ledger change locks it first (serializes the user)."""

    __tablename__ = "ledger_accounts"

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    unit: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(BigInt, default=0, nullable=False)


class LedgerGrant(Base):
    __tablename__ = "ledger_grants"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        CheckConstraint("remaining <= amount", name="remaining_within_amount"),
        Index("ix_ledger_grants_user_unit_expires", "user_id", "unit", "expires_at"),
    )

    id: Mapped[str] = id_column()
    key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    user_id: Mapped[str] = _user_fk()
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    ref: Mapped[str | None] = mapped_column(String(64), nullable=True)  # plan or add-on id
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    remaining: Mapped[int] = mapped_column(BigInteger, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class LedgerReservation(Base):
    __tablename__ = "ledger_reservations"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_ledger_reservations_status_created", "status", "created_at"),
        Index("ix_ledger_reservations_user", "user_id", "unit"),
    )

    id: Mapped[str] = id_column()
    key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    user_id: Mapped[str] = _user_fk()
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    requested: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reduced: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=ReservationStatus.reserved.value, nullable=False)
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    workflow_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    charged: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    released: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    overage: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    uncovered: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LedgerHold(Base):
    """The part of a reservation taken from one grant (returned to it on release)."""

    __tablename__ = "ledger_holds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    reservation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_reservations.id", ondelete="CASCADE"), index=True, nullable=False
    )
    grant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_grants.id", ondelete="CASCADE"), nullable=False
    )
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)


class LedgerEntry(Base):
    """Append-only: every change to a balance, with who, why, job and key."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_ledger_entries_kind_key"),
        Index("ix_ledger_entries_user_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = _user_fk()
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str] = mapped_column(String(64), default="system", nullable=False)
    reason: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
