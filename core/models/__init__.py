"""ORM models. Import every model module here so Alembic and the app see one metadata."""

from core.models.base import Base
from core.models.job import Job, JobKind, JobStatus
from core.models.payments import (
    AuditLog,
    Payment,
    PaymentAttempt,
    PaymentKind,
    PaymentStatus,
    WebhookEvent,
)
from core.models.user import Locale, Role, User

__all__ = [
    "AuditLog",
    "Base",
    "Job",
    "JobKind",
    "JobStatus",
    "Locale",
    "Payment",
    "PaymentAttempt",
    "PaymentKind",
    "PaymentStatus",
    "Role",
    "User",
    "WebhookEvent",
]
