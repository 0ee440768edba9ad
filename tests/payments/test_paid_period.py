"""The card a renewal charges: its registration and the initial transaction of that same card
(a merchant-initiated charge names the customer-initiated one that stored the card; HyperPay
and the schemes refuse a mismatch). PostgreSQL only."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core.accounts import get_or_create_user
from core.db import Database
from core.models import Payment, PaymentKind, PaymentStatus
from core.models.base import utcnow
from core.payments.renewals import paid_period
from core.subscriptions import set_plan


def _plan_payment(user_id: str, card: str, minutes_ago: int) -> Payment:
    return Payment(
        user_id=user_id,
        kind=PaymentKind.plan.value,
        item_id="starter",
        amount_fils=3000,
        status=PaymentStatus.succeeded.value,
        registration_id=f"reg-{card}",
        initial_transaction_id=f"initial-{card}",
        created_at=utcnow() - timedelta(minutes=minutes_ago),
    )


async def test_a_renewal_names_the_initial_transaction_of_the_stored_card(db: Database) -> None:
    """The subscription keeps card A (a later plan payment on card B was paid but not granted,
    e.g. refunded as late): the period read carries A's registration with A's own initial
    transaction, not B's (before: the newest plan payment's, whatever its card)."""
    async with db.session() as session:
        user = await get_or_create_user(session, f"card-{uuid.uuid4().hex[:8]}@example.com", "en")
        session.add_all([_plan_payment(user.id, "a", 30), _plan_payment(user.id, "b", 5)])
        subscription = await set_plan(session, user.id, "starter", key=f"test:{user.id}")
        subscription.registration_id = "reg-a"
    async with db.reader() as session:
        period = await paid_period(session, user.id)
    assert period is not None
    assert (period.registration_id, period.initial_transaction_id) == ("reg-a", "initial-a")
