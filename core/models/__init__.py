"""ORM models. Import every model module here so Alembic and the app see one metadata."""

from core.models.base import Base
from core.models.chat import ChatMessage, Conversation, MessageStatus
from core.models.job import Job, JobKind, JobStatus
from core.models.user import Locale, Role, User

__all__ = ["Base", "ChatMessage", "Conversation", "MessageStatus", "Job", "JobKind", "JobStatus", "Locale", "Role", "User"]
