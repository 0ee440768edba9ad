"""Payments (integer fils), one row per HyperPay attempt, decrypted webhook events (deduped),
and the audit log of support actions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TimestampMixin, UTCDateTime, id_column, utcnow


class PaymentKind(StrEnum):
    plan = "plan"  # first payment of a plan (checkout, stores the card)
    addon = "addon"  # one-off add-on (checkout)
    renewal = "renewal"  # merchant-initiated charge on the stored card
    upgrade = "upgrade"  # immediate plan change charged on the stored card


class PaymentStatus(StrEnum):
    created = "created"
    pending = "pending"  # checkout open, or the bank has not decided yet
    succeeded = "succeeded"
    failed = "failed"  # declined / rejected; result_code says why (may still be retried)
    expired = "expired"  # the shopper never paid within the checkout's life
    refunded = "refunded"  # paid after it was no longer awaited, and given back (audit log says why)


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_user_created", "user_id", "created_at"),
        Index("ix_payments_status", "status", "created_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    item_id: Mapped[str] = mapped_column(String(32), nullable=False)  # plan id or add-on id
    amount_fils: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="JOD", nullable=False)
    brand: Mapped[str] = mapped_column(String(16), default="VISA MASTER", nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.created.value, nullable=False)
    result_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    result_description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    checkout_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    provider_payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    registration_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    initial_transaction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    card_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # renewals: one payment per period and plan (idempotent creation)
    key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PaymentAttempt(Base):
    """One call to HyperPay that could move money, with its own merchantTransactionId."""

    __tablename__ = "payment_attempts"

    id: Mapped[str] = id_column()
    payment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    merchant_transaction_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    checkout_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    result_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    result_class: Mapped[str | None] = mapped_column(String(16), nullable=True)
    actor: Mapped[str] = mapped_column(String(64), default="system", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class WebhookEvent(Base):
    """A decrypted provider notification, stored as received; duplicates share ``dedupe_key``."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = id_column()
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    provider_payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    merchant_transaction_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    result_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    payment_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    deliveries: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class AuditLog(Base):
    """Who did what to whom, for support actions (payment retries, quota adjustments …)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created", "created_at"),)

    id: Mapped[str] = id_column()
    actor_id: Mapped[str] = mapped_column(String(32), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str] = mapped_column(String(32), nullable=False)
    target_id: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class RefundStatus(StrEnum):
    open = "open"  # HyperPay rejected the refund: support has to act (retry)
    refunded = "refunded"  # a later retry (or HyperPay itself) gave the money back


class FailedRefund(TimestampMixin, Base):
    """A refund we decided on and HyperPay rejected, until support's retry gives the money back.

    ``cause`` is why it was owed (``late``: paid after its checkout was no longer awaited;
    ``superseded``: a renewal whose period a purchase replaced; ``overlap``: the unused part of
    a period paid twice), ``cause_id`` the payment whose grant decided it. One row per refund
    decided (``key``)."""

    __tablename__ = "failed_refunds"
    __table_args__ = (Index("ix_failed_refunds_status", "status", "created_at"),)

    id: Mapped[str] = id_column()
    key: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    payment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    cause: Mapped[str] = mapped_column(String(16), nullable=False)
    cause_id: Mapped[str] = mapped_column(String(32), nullable=False)
    amount_fils: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.open.value, nullable=False)
    result_code: Mapped[str] = mapped_column(String(16), default="", nullable=False)
    result_description: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    provider_refund_id: Mapped[str] = mapped_column(String(64), default="", nullable=False)
