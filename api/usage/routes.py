"""Usage metering: ``/v1/usage/me``, ``/v1/usage/history``, ``/v1/usage/check``, and the
support API that changes a plan or adjusts a balance (``/v1/admin/users/{id}/…``, audit-logged
in the ledger entries' actor and reason)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.auth.deps import CurrentUser, SupportUser
from api.deps import LocaleDep, SessionDep, SettingsDep, TemporalDep
from api.usage.schemas import (
    Adjustment,
    AdjustmentResult,
    CheckRequest,
    CheckResult,
    EntryPublic,
    HistoryPage,
    PlanChange,
    SubscriptionPublic,
    UnitUsagePublic,
    UsageMe,
)
from core import ledger, payments, subscriptions
from core.errors import NotFound
from core.i18n import translate
from core.ledger import QuotaExceeded
from core.models import Subscription, User
from workflows.subscription_client import sync_subscription

router = APIRouter(prefix="/v1/usage", tags=["usage"])
admin_router = APIRouter(prefix="/v1/admin/users", tags=["admin"])


@router.get("/me", response_model=UsageMe)
async def usage_me(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> UsageMe:
    await subscriptions.ensure_subscription(session, user.id)
    summary = await ledger.usage(session, user.id, warning_percent=settings.ledger_warning_percent)
    return UsageMe(
        plan_id=summary.plan_id,
        status=summary.status,
        period_start=summary.period_start,
        period_end=summary.period_end,
        units={name: UnitUsagePublic(**vars(state)) for name, state in summary.units.items() if name},
    )


@router.get("/history", response_model=HistoryPage)
async def usage_history(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,  # ledger ids are BIGINT
) -> HistoryPage:
    rows = await ledger.history(session, user.id, limit=limit + 1, before_id=before)
    page = rows[:limit]
    items = [
        EntryPublic(
            id=row.id,
            unit=row.unit,
            kind=row.kind,
            amount=row.amount,
            key=row.key,
            job_id=row.job_id,
            actor=_public_actor(row.actor),
            reason=row.reason,
            meta=row.meta,
            created_at=row.created_at,
        )
        for row in page
    ]
    return HistoryPage(items=items, next_before=page[-1].id if len(rows) > limit else None)


def _public_actor(actor: str) -> str:
    """Staff are shown as ``support``, not by their user id."""
    known = {"system", "sweeper", "workflow", "payments", "cli", "test"}
    return actor if actor in known else "support"


@router.post("/check", response_model=CheckResult)
async def usage_check(
    body: CheckRequest, user: CurrentUser, session: SessionDep, locale: LocaleDep
) -> CheckResult:
    """Pre-flight: would a reservation of ``amount`` succeed now? (Nothing is reserved.)"""
    await subscriptions.ensure_subscription(session, user.id)
    have = await ledger.available(session, user.id, body.unit)
    shrinks = body.unit == "tokens" and body.min_amount is not None and body.min_amount <= have
    if have >= body.amount or shrinks:
        grantable = min(have, body.amount)
        return CheckResult(
            allowed=True,
            unit=body.unit,
            amount=body.amount,
            available=have,
            grantable=grantable,
            reduced=grantable < body.amount,
            message=translate("Allowed.", locale),
        )
    denied = QuotaExceeded(unit=body.unit, requested=body.amount, available=have)
    return CheckResult(
        allowed=False,
        unit=body.unit,
        amount=body.amount,
        available=have,
        reason=denied.code,
        message=translate(denied.message, locale, **denied.params),
    )


async def _user(session: SessionDep, user_id: str) -> User:
    found = await session.get(User, user_id)
    if found is None:
        raise NotFound()
    return found


def _subscription_public(row: Subscription) -> SubscriptionPublic:
    return SubscriptionPublic(
        user_id=row.user_id,
        plan_id=row.plan_id,
        status=row.status,
        current_period_start=row.current_period_start,
        current_period_end=row.current_period_end,
    )


@admin_router.post("/{user_id}/plan", response_model=SubscriptionPublic)
async def change_plan(
    user_id: str,
    body: PlanChange,
    actor: SupportUser,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> SubscriptionPublic:
    """Move a user to a plan with a new period (support; the actor and reason are recorded).
    A paid plan gets its SubscriptionWorkflow (started, or told of the new period); Free ends it."""
    target = await _user(session, user_id)
    row = await subscriptions.set_plan(
        session,
        target.id,
        body.plan_id,
        key=f"support:{target.id}:{body.key or uuid.uuid4().hex}",  # scoped to the user
        actor=actor.id,
        reason=body.reason,
    )
    await payments.audit(
        session,
        actor_id=actor.id,
        action="subscription.set_plan",
        target_type="user",
        target_id=target.id,
        reason=body.reason,
        details={"plan_id": body.plan_id},
    )
    period = await payments.paid_period(session, target.id)
    await session.commit()  # the workflow reads the new period
    if period is not None:
        await sync_subscription(temporal, settings, period)
    return _subscription_public(row)


@admin_router.post("/{user_id}/adjust", response_model=AdjustmentResult)
async def adjust_balance(
    user_id: str, body: Adjustment, actor: SupportUser, session: SessionDep
) -> AdjustmentResult:
    """Add (+delta) or take away (-delta) quota with a reason (support)."""
    target = await _user(session, user_id)
    applied = await ledger.adjust(
        session,
        user_id=target.id,
        unit=body.unit,
        delta=body.delta,
        actor_id=actor.id,
        reason=body.reason,
        key=f"support:{target.id}:{body.key or uuid.uuid4().hex}",  # scoped to the user
    )
    await payments.audit(
        session,
        actor_id=actor.id,
        action="quota.adjust",
        target_type="user",
        target_id=target.id,
        reason=body.reason,
        details={"unit": str(body.unit), "delta": body.delta, "applied": applied},
    )
    return AdjustmentResult(
        user_id=target.id,
        unit=body.unit,
        applied=applied,
        available=await ledger.available(session, target.id, body.unit),
    )
