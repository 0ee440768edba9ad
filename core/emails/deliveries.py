"""Which emails were delivered, keyed by idempotency key (the SendEmailWorkflow id)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import EmailDelivery


async def delivered(session: AsyncSession, key: str) -> EmailDelivery | None:
    return await session.get(EmailDelivery, key)


async def record_delivery(
    session: AsyncSession, *, key: str, template: str, backend: str, provider_message_id: str
) -> None:
    row = EmailDelivery(key=key, template=template, backend=backend, provider_message_id=provider_message_id)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        pass  # a concurrent attempt recorded it first
