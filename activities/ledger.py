"""Ledger activities for the job saga (reserve as a local activity, settle, release) and the
sweeper (orphaned reservations, expired grants, Free renewals).

Each activity owns its transaction. Domain errors become non-retryable ``ApplicationError``s
whose ``type`` is the error code (``quota_exceeded``, ``reservation_not_found`` …).
After a settle that takes a unit to the warning level, the 80 % email is started once per
user, unit and period (the workflow id is the warning key; the ledger records it was sent).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core import ledger, subscriptions
from core.db import Database
from core.errors import AppError
from core.i18n import format_number, format_when
from core.ledger import QuotaExceeded, WarningNotice
from core.metrics import LEDGER_OPERATIONS
from core.models import User
from core.models.base import utcnow
from core.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class ReserveInput:
    user_id: str
    unit: str
    amount: int
    key: str
    job_id: str | None = None
    workflow_id: str | None = None
    min_amount: int | None = None


@dataclass
class ReserveResult:
    amount: int
    reduced: bool


@dataclass
class SettleInput:
    key: str
    actual: int


@dataclass
class SettleOutput:
    charged: int
    released: int
    overage: int
    uncovered: int = 0


@dataclass
class ReleaseInput:
    key: str
    reason: str = ""


@dataclass
class SweepInput:
    grace_seconds: int = 900
    limit: int = 200


@dataclass
class SweepResult:
    checked: int = 0
    released: int = 0
    kept: int = 0
    expired_grants: int = 0
    renewed: int = 0


@dataclass
class WarningEmail:
    workflow_id: str  # quota-warning-<user>-<unit>-<period start>: one email per unit and period
    to: str
    locale: str
    context: dict[str, Any] = field(default_factory=dict)


WarningSender = Callable[[Client, WarningEmail], Awaitable[None]]


def to_application_error(error: AppError) -> ApplicationError:
    """A domain error as a non-retryable activity failure typed by its code."""
    details = error.params if isinstance(error, QuotaExceeded) else {}
    message = error.message.format(**error.params) if error.params else error.message
    return ApplicationError(message, details, type=error.code, non_retryable=True)


class LedgerActivities:
    def __init__(
        self,
        db: Database,
        settings: Settings | None = None,
        *,
        send_warning: WarningSender | None = None,
    ) -> None:
        self.db = db
        self.warning_percent = settings.ledger_warning_percent if settings else ledger.WARNING_PERCENT
        self.public_url = settings.public_url if settings else ""
        self.send_warning = send_warning

    @activity.defn(name="ledger.reserve")
    async def reserve(self, data: ReserveInput) -> ReserveResult:
        try:
            async with self.db.session() as session:
                await subscriptions.ensure_current_period(session, data.user_id)  # new user → Free
                held = await self._reserve(session, data)
        except AppError as error:
            LEDGER_OPERATIONS.labels("reserve", error.code).inc()
            raise to_application_error(error) from None
        LEDGER_OPERATIONS.labels("reserve", "reduced" if held.reduced else "reserved").inc()
        return ReserveResult(amount=held.amount, reduced=held.reduced)

    @staticmethod
    async def _reserve(session: AsyncSession, data: ReserveInput) -> ledger.Reservation:
        return await ledger.reserve(
            session,
            user_id=data.user_id,
            unit=data.unit,
            amount=data.amount,
            key=data.key,
            job_id=data.job_id,
            workflow_id=data.workflow_id,
            min_amount=data.min_amount,
        )

    @activity.defn(name="ledger.settle")
    async def settle(self, data: SettleInput) -> SettleOutput:
        output, warn = await self.settle_only(data)
        if warn is not None:
            await self.warn_if_due(*warn)
        return output

    async def settle_only(self, data: SettleInput) -> tuple[SettleOutput, tuple[str, str] | None]:
        """Settle in one transaction; also says whose (user, unit) warning may now be due."""
        try:
            async with self.db.session() as session:
                result = await ledger.settle(session, key=data.key, actual=data.actual)
                owner = result.owner
                near = (
                    owner is not None
                    and result.charged > 0
                    and self.send_warning is not None
                    and await ledger.near_warning(session, *owner, warning_percent=self.warning_percent)
                )
        except AppError as error:
            raise to_application_error(error) from None
        LEDGER_OPERATIONS.labels("settle", "uncovered" if result.uncovered else "settled").inc()
        output = SettleOutput(result.charged, result.released, result.overage, result.uncovered)
        return output, owner if near else None

    @activity.defn(name="ledger.release")
    async def release(self, data: ReleaseInput) -> bool:
        async with self.db.session() as session:
            released = await ledger.release(session, key=data.key, actor="workflow", reason=data.reason)
        LEDGER_OPERATIONS.labels("release", "released" if released else "none").inc()
        return released

    @activity.defn(name="ledger.sweep")
    async def sweep(self, data: SweepInput) -> SweepResult:
        """Release orphaned reservations, record expired grants, renew due Free periods."""
        result = SweepResult()
        now = utcnow()
        async with self.db.session() as session:
            candidates = await ledger.open_reservations(
                session, older_than=now - timedelta(seconds=data.grace_seconds), limit=data.limit
            )
        client = activity.client()
        for candidate in candidates:
            result.checked += 1
            if candidate.workflow_id and await _running(client, candidate.workflow_id):
                result.kept += 1
                continue
            async with self.db.session() as session:
                reason = (
                    f"workflow {candidate.workflow_id} not running"
                    if candidate.workflow_id
                    else "no workflow"
                )
                if await ledger.release(session, key=candidate.key, actor="sweeper", reason=reason):
                    result.released += 1
        async with self.db.session() as session:
            result.expired_grants = await ledger.expire_due_grants(session, now, limit=data.limit)
        async with self.db.session() as session:
            due = await subscriptions.due_for_renewal(session, now, limit=data.limit)
        for user_id in due:  # one short transaction per user
            async with self.db.session() as session:
                await subscriptions.ensure_subscription(session, user_id, now)
            result.renewed += 1
        log.info("ledger.swept", **vars(result))
        return result

    async def warn_if_due(self, user_id: str, unit: str) -> None:
        """Start the warning email once per period; a failure is retried by the next settle."""
        if self.send_warning is None:
            return
        try:
            async with self.db.session() as session:
                notice = await ledger.warning_due(
                    session, user_id, unit, warning_percent=self.warning_percent
                )
                email = await self._warning_email(session, notice) if notice else None
            if notice is None or email is None:
                return
            await self.send_warning(activity.client(), email)
            async with self.db.session() as session:
                await ledger.record_warning(session, notice)
            log.info("ledger.warning_sent", user_id=user_id, unit=unit, workflow_id=email.workflow_id)
        except Exception as error:  # noqa: BLE001 - a warning must never fail a settle
            log.warning("ledger.warning_failed", user_id=user_id, unit=unit, error=str(error))

    async def _warning_email(self, session: AsyncSession, notice: WarningNotice) -> WarningEmail | None:
        user = await session.get(User, notice.user_id)
        if user is None:
            return None
        summary = await ledger.usage(session, notice.user_id, warning_percent=self.warning_percent)
        state = summary.units[notice.unit]
        ends = summary.period_end
        return WarningEmail(
            workflow_id=notice.key,
            to=user.email,
            locale=user.locale,
            context={
                "unit": notice.unit,
                "percent": format_number(state.percent, user.locale),
                "used": format_number(state.used, user.locale),
                "granted": format_number(state.granted, user.locale),
                "remaining": format_number(state.remaining, user.locale),
                "renews": format_when(ends, user.locale) if ends else "",
                "link": f"{self.public_url.rstrip('/')}/usage",
            },
        )


async def _running(client: Client, workflow_id: str) -> bool:
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return description.status == WorkflowExecutionStatus.RUNNING
