"""ORM models. Import every model module here so Alembic and the app see one metadata."""

from core.models.account_changes import EmailChange
from core.models.accounts import ApiImageCall, ApiKey, ApiTurn, AuthSession, EmailDelivery, MagicLinkToken
from core.models.base import Base
from core.models.chat import ChatMessage, Conversation, MessageStatus
from core.models.cv import Cv, CvVersion
from core.models.files import FilePurpose, FileStatus, JobFile, StoredFile
from core.models.image import GalleryImage, ImagePrediction
from core.models.job import Job, JobKind, JobStatus
from core.models.ledger import (
    EntryKind,
    GrantSource,
    LedgerAccount,
    LedgerEntry,
    LedgerGrant,
    LedgerHold,
    LedgerReservation,
    ReservationStatus,
    Subscription,
    SubscriptionStatus,
)
from core.models.payments import (
    AuditLog,
    FailedRefund,
    Payment,
    PaymentAttempt,
    PaymentKind,
    PaymentStatus,
    RefundStatus,
    WebhookEvent,
)
from core.models.slides import SlideDeck
from core.models.user import Locale, Role, User
from core.models.video import Video

__all__ = [
    "FailedRefund",
    "RefundStatus",
    "EmailChange",
    "SlideDeck",
    "ChatMessage",
    "Conversation",
    "MessageStatus",
    "ApiKey",
    "AuditLog",
    "AuthSession",
    "Base",
    "EmailDelivery",
    "EntryKind",
    "GrantSource",
    "GalleryImage",
    "ImagePrediction",
    "Job",
    "JobKind",
    "JobStatus",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerGrant",
    "LedgerHold",
    "LedgerReservation",
    "Locale",
    "MagicLinkToken",
    "Payment",
    "PaymentAttempt",
    "PaymentKind",
    "PaymentStatus",
    "ReservationStatus",
    "Role",
    "Subscription",
    "SubscriptionStatus",
    "User",
    "WebhookEvent",
    "Cv",
    "CvVersion",
    "FilePurpose",
    "FileStatus",
    "JobFile",
    "StoredFile",
    "ApiImageCall",
    "ApiTurn",
    "Video",
]
