"""Personal API keys' limits, rotation and spend (the OpenAI-compatible API's side of keys).

A key belongs to a *family*: the id of the first key; rotating a key makes a new key in the same
family with the same limits and revokes the old one, so the monthly budget window (counted over
the family) survives rotation. The budget window is the owner's plan period (the calendar month
in UTC for someone without one) and its spend is read from the ledger, never from a cache:

- a turn whose reservation is settled counts what the ledger charged;
- a turn whose reservation is still held counts the held amount;
- a turn not yet reserved (its workflow is starting) counts the most it may cost, for at most
  ``UNRESERVED_GRACE`` (so a turn whose workflow never started cannot hold the budget forever).

New turns take the family's row lock (``SELECT … FOR UPDATE``) before they are counted, so
concurrent requests of one family cannot both spend the same remainder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import CreatedApiKey, create_api_key
from core.errors import NotFound, ValidationFailed
from core.models import (
    ApiImageCall,
    ApiKey,
    ApiTurn,
    Job,
    JobStatus,
    LedgerReservation,
    ReservationStatus,
    Subscription,
)
from core.models.base import utcnow
from core.subscriptions import ensure_current_period

RESERVATION_KEY_PREFIX = "chat-turn-"  # ChatTurnWorkflow's reservation key: chat-turn-<turn id>
IMAGE_RESERVATION_PREFIX = "image-"  # ImageJobWorkflow's: image-<job id>:images
# A turn reserves milliseconds after its row is committed; one with no reservation after this
# never got its workflow (the API process died in between) and stops counting against the budget.
UNRESERVED_GRACE = timedelta(minutes=10)


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    message = "This API key was not found."


class InvalidKeyLimits(ValidationFailed):
    code = "invalid_key_limits"
    message = "The key's limits are invalid: {detail}"


@dataclass(frozen=True)
class KeyLimits:
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    monthly_budget: int | None = None  # studio tokens per budget window
    allowed_models: list[str] | None = None  # catalog ids; None: every model
    expires_at: datetime | None = None
    monthly_image_budget: int | None = None  # images units per budget window

    def apply(self, row: ApiKey) -> None:
        row.rpm_limit, row.tpm_limit = self.rpm_limit, self.tpm_limit
        row.monthly_budget, row.monthly_image_budget = self.monthly_budget, self.monthly_image_budget
        row.allowed_models = list(self.allowed_models) if self.allowed_models is not None else None
        row.expires_at = self.expires_at

    @classmethod
    def of(cls, row: ApiKey) -> KeyLimits:
        return cls(
            row.rpm_limit,
            row.tpm_limit,
            row.monthly_budget,
            row.allowed_models,
            row.expires_at,
            row.monthly_image_budget,
        )


def family_of(row: ApiKey) -> str:
    return row.family_id or row.id


async def create_key(session: AsyncSession, user_id: str, name: str, limits: KeyLimits) -> CreatedApiKey:
    created = await create_api_key(session, user_id, name)
    limits.apply(created.api_key)
    await session.flush()
    return created


async def owned_key(session: AsyncSession, user_id: str, key_id: str, *, live: bool = True) -> ApiKey:
    """One of the user's keys (another user's or an unknown id: 404)."""
    row = await session.get(ApiKey, key_id)
    if row is None or row.user_id != user_id or (live and row.revoked_at is not None):
        raise ApiKeyNotFound()
    return row


async def update_limits(session: AsyncSession, user_id: str, key_id: str, limits: KeyLimits) -> ApiKey:
    row = await owned_key(session, user_id, key_id)
    limits.apply(row)
    await session.flush()
    return row


async def rotate_key(session: AsyncSession, user_id: str, key_id: str) -> CreatedApiKey:
    """A new secret for the key: same name, limits and family (budget window); the old one is
    revoked at once. The row lock makes a concurrent second rotation of the same key a 404."""
    old = (
        await session.execute(
            select(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if old is None:
        raise ApiKeyNotFound()
    created = await create_api_key(session, user_id, old.name)
    KeyLimits.of(old).apply(created.api_key)
    created.api_key.family_id = family_of(old)
    old.revoked_at = utcnow()
    await session.flush()
    return created


# --- the budget window and its spend ----------------------------------------------------------


async def budget_window(
    session: AsyncSession, user_id: str, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The owner's current plan period (put in place first, as every reserve does: a new user's
    Free period starts now); the calendar month (UTC) if there is still none."""
    now = now or utcnow()
    await ensure_current_period(session, user_id, now)
    period = (
        await session.execute(
            select(Subscription.current_period_start, Subscription.current_period_end).where(
                Subscription.user_id == user_id
            )
        )
    ).one_or_none()
    if period is not None and period[0] <= now < period[1]:
        return period[0], period[1]
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    end = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass
class ModelSpend:
    model: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    studio_tokens: int = 0  # charged by the ledger
    held: int = 0  # reserved or about to be, for turns still running


@dataclass
class FamilySpend:
    period_start: datetime
    period_end: datetime
    models: list[ModelSpend] = field(default_factory=list)

    @property
    def charged(self) -> int:
        return sum(m.studio_tokens for m in self.models)

    @property
    def held(self) -> int:
        return sum(m.held for m in self.models)

    @property
    def counted(self) -> int:
        """What the budget check counts: charged plus held."""
        return self.charged + self.held


_reservation = LedgerReservation
_RUNNING = (JobStatus.pending.value, JobStatus.running.value)


def _held_and_charged(created_at: Any, most: Any) -> tuple[Any, Any]:
    """Per call: what it holds (its reservation, or before the workflow reserved and within the
    grace, the most it may cost) and what the ledger charged it."""
    held = case(
        (_reservation.status == ReservationStatus.reserved.value, _reservation.amount),
        (
            _reservation.id.is_(None)
            & Job.status.in_(_RUNNING)
            & (created_at > bindparam("unreserved_since")),
            most,
        ),
        else_=0,
    )
    charged = case(
        (_reservation.status == ReservationStatus.reserved.value, 0),
        else_=func.coalesce(_reservation.charged, 0),
    )
    return held, charged


def _spend_query() -> Any:
    held, charged = _held_and_charged(ApiTurn.created_at, ApiTurn.max_studio_tokens)
    return (
        select(
            ApiTurn.model,
            func.count(),
            func.coalesce(func.sum(ApiTurn.input_tokens), 0),
            func.coalesce(func.sum(ApiTurn.output_tokens), 0),
            func.coalesce(func.sum(charged), 0),
            func.coalesce(func.sum(held), 0),
        )
        .join(Job, Job.id == ApiTurn.id)
        .outerjoin(_reservation, _reservation.key == literal(RESERVATION_KEY_PREFIX) + ApiTurn.id)
        .group_by(ApiTurn.model)
        .order_by(ApiTurn.model)
    )


_SPEND = _spend_query()


async def family_spend(
    session: AsyncSession, user_id: str, family_id: str, now: datetime | None = None
) -> FamilySpend:
    now = now or utcnow()
    start, end = await budget_window(session, user_id, now)
    query = _SPEND.where(
        ApiTurn.family_id == family_id, ApiTurn.created_at >= start, ApiTurn.created_at < end
    )
    rows = (await session.execute(query, {"unreserved_since": now - UNRESERVED_GRACE})).all()
    return FamilySpend(start, end, [ModelSpend(*(r[0], int(r[1]), *(int(v) for v in r[2:]))) for r in rows])


@dataclass
class ImageSpend:
    """A family's image calls in the budget window, per model: ``images`` charged by the ledger,
    ``held`` reserved (or about to be) for calls still running."""

    model: str
    requests: int = 0
    images: int = 0
    held: int = 0


def _image_spend_query() -> Any:
    held, charged = _held_and_charged(ApiImageCall.created_at, ApiImageCall.max_images)
    # ImageJobWorkflow's reservation key: image-<job>:images (JobSaga.ledger_key)
    key = literal(IMAGE_RESERVATION_PREFIX) + ApiImageCall.id + literal(":images")
    return (
        select(
            ApiImageCall.model,
            func.count(),
            func.coalesce(func.sum(charged), 0),
            func.coalesce(func.sum(held), 0),
        )
        .join(Job, Job.id == ApiImageCall.id)
        .outerjoin(_reservation, _reservation.key == key)
        .group_by(ApiImageCall.model)
        .order_by(ApiImageCall.model)
    )


_IMAGE_SPEND = _image_spend_query()


async def family_images(
    session: AsyncSession, family_id: str, start: datetime, end: datetime, now: datetime | None = None
) -> list[ImageSpend]:
    """Exact, from the ledger, as ``family_spend`` is for tokens (same window, same grace)."""
    now = now or utcnow()
    query = _IMAGE_SPEND.where(
        ApiImageCall.family_id == family_id, ApiImageCall.created_at >= start, ApiImageCall.created_at < end
    )
    rows = (await session.execute(query, {"unreserved_since": now - UNRESERVED_GRACE})).all()
    return [ImageSpend(r[0], *(int(v) for v in r[1:])) for r in rows]


async def lock_family(session: AsyncSession, family_id: str) -> None:
    """Serialise budget checks of one key family (the family's first key row)."""
    await session.execute(select(ApiKey.id).where(ApiKey.id == family_id).with_for_update())


def output_tokens_within(remaining: int, weight: float, input_tokens: int) -> int:
    """The most output tokens ``remaining`` studio tokens pay for after ``input_tokens``."""
    return math.floor(remaining / weight) - input_tokens if weight > 0 else 0
