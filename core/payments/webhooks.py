"""HyperPay notifications as received: kept once per distinct event, replays counted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.ledger import insert_ignore
from core.models import WebhookEvent
from core.models.base import new_id, utcnow
from core.payments.checkout import by_reference


def webhook_dedupe_key(data: dict[str, Any]) -> str:
    payload = data.get("payload") or {}
    result = payload.get("result") or {}
    return ":".join(
        str(part)
        for part in (
            data.get("type", ""),
            data.get("action", ""),
            payload.get("id", ""),
            result.get("code", ""),
        )
    )


async def store_webhook(session: AsyncSession, data: dict[str, Any]) -> tuple[WebhookEvent, bool]:
    """Keep the decrypted notification; a replay bumps ``deliveries`` (returns ``new=False``)."""
    payload = data.get("payload") or {}
    reference = str(payload.get("merchantTransactionId") or "") or None
    payment = await by_reference(session, reference) if reference else None
    key = webhook_dedupe_key(data)
    row = {
        "id": new_id(),
        "provider": "hyperpay",
        "dedupe_key": key,
        "type": str(data.get("type", ""))[:32],
        "provider_payment_id": str(payload.get("id") or "")[:64] or None,
        "merchant_transaction_id": reference,
        "result_code": str((payload.get("result") or {}).get("code") or "")[:16] or None,
        "payment_id": payment.id if payment else None,
        "payload": data,
        "deliveries": 1,
        "received_at": utcnow(),
    }
    inserted = await session.execute(insert_ignore(session, WebhookEvent, row))
    new = bool(getattr(inserted, "rowcount", 0))
    if not new:
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.dedupe_key == key)
            .values(deliveries=WebhookEvent.deliveries + 1)
            .execution_options(synchronize_session=False)
        )
    event = (await session.execute(select(WebhookEvent).where(WebhookEvent.dedupe_key == key))).scalar_one()
    return event, new


async def webhook_events(session: AsyncSession, payment_id: str) -> list[WebhookEvent]:
    query = (
        select(WebhookEvent).where(WebhookEvent.payment_id == payment_id).order_by(WebhookEvent.received_at)
    )
    return list((await session.execute(query)).scalars())
