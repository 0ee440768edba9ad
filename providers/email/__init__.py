"""Sending email: SMTP (works with SES SMTP credentials), the SES v2 API, or the dev outbox.

``build_email_provider(settings)`` picks the backend from ``settings.email_backend``. Every
backend takes a ``key`` (the caller's idempotency key, e.g. the workflow id) so a retried send
of the same message is recognisable (Message-ID header, outbox file name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.settings import EmailBackend, Settings


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str
    locale: str = "ar"
    link: str | None = None  # the main call to action (shown by the dev mailbox)


class EmailRejected(Exception):
    """The provider refused the message for good (bad address, unverified sender …): no retry."""


class EmailProvider(Protocol):
    name: str

    async def send(self, message: EmailMessage, *, key: str) -> str:
        """Deliver the message; returns the provider's message id. Raises ``EmailRejected`` for
        permanent refusals; any other error is transient and retried by the workflow."""
        ...


def build_email_provider(settings: Settings) -> EmailProvider:
    if settings.email_backend == EmailBackend.smtp:
        from providers.email.smtp import SmtpEmailProvider

        return SmtpEmailProvider(settings)
    if settings.email_backend == EmailBackend.ses:
        from providers.email.ses import SesEmailProvider

        return SesEmailProvider(settings)
    from providers.email.outbox import OutboxEmailProvider

    return OutboxEmailProvider(settings.outbox_dir)


__all__ = ["EmailMessage", "EmailProvider", "EmailRejected", "build_email_provider"]
