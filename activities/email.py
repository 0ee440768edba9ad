"""Email activity: render a named email in the recipient's language and send it through the
configured provider, once per idempotency key (the SendEmailWorkflow id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.accounts import unseal
from core.db import Database
from core.emails import UnknownEmailTemplate, render_email
from core.emails.deliveries import delivered, record_delivery
from core.settings import Settings
from providers.email import EmailMessage, EmailProvider, EmailRejected

log = structlog.get_logger(__name__)
SEALED_SUFFIX = "_sealed"


@dataclass
class SendEmailInput:
    key: str  # idempotency key: the workflow id
    to: str
    template: str
    locale: str
    context: dict[str, Any] = field(default_factory=dict)  # keys ending in _sealed are decrypted
    deliver_within_seconds: int | None = None  # give up after this long (e.g. a sign-in link)


@dataclass
class SendEmailResult:
    key: str
    backend: str
    provider_message_id: str
    already_sent: bool = False


class EmailActivities:
    def __init__(self, settings: Settings, db: Database, provider: EmailProvider) -> None:
        self.settings = settings
        self.db = db
        self.provider = provider

    @activity.defn(name="email.send")
    async def send(self, data: SendEmailInput) -> SendEmailResult:
        async with self.db.session() as session:
            done = await delivered(session, data.key)
        if done is not None:
            return SendEmailResult(data.key, done.backend, done.provider_message_id, already_sent=True)
        message = self.compose(data)
        try:
            provider_id = await self.provider.send(message, key=data.key)
        except EmailRejected as error:
            log.warning("email.rejected", key=data.key, template=data.template, error=str(error))
            raise ApplicationError(str(error), type="EmailRejected", non_retryable=True) from None
        async with self.db.session() as session:
            await record_delivery(
                session,
                key=data.key,
                template=data.template,
                backend=self.provider.name,
                provider_message_id=provider_id,
            )
        log.info("email.sent", key=data.key, template=data.template, backend=self.provider.name)
        return SendEmailResult(data.key, self.provider.name, provider_id)

    def compose(self, data: SendEmailInput) -> EmailMessage:
        context = self.open_context(data.context)
        try:
            rendered = render_email(
                data.template, data.locale, **{"public_url": self.settings.public_url, **context}
            )
        except UnknownEmailTemplate:
            raise ApplicationError(
                f"unknown email template {data.template!r}", type="UnknownEmailTemplate", non_retryable=True
            ) from None
        link = context.get("link")
        return EmailMessage(
            to=data.to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            locale=rendered.locale,
            link=str(link) if link else None,
        )

    def open_context(self, context: dict[str, Any]) -> dict[str, Any]:
        opened: dict[str, Any] = {}
        for name, value in context.items():
            if name.endswith(SEALED_SUFFIX):
                opened[name.removesuffix(SEALED_SUFFIX)] = unseal(self.settings, str(value))
            else:
                opened[name] = value
        return opened
