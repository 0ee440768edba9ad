"""Turns asked through the OpenAI-compatible API: a ``chat`` job without a stored conversation.

The request (messages and sampling options) is kept in ``api_turns.request`` while the turn
runs, so a retried stream activity can ask again, and cleared once the reply is stored; the
reply's text is never stored (the caller received it), only its usage. The job row is the
same as any chat turn's, so the workflow, the ledger and Stop work unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import apikeys
from core.catalog import ModelInfo, studio_tokens
from core.chat import ReplyRecord, TurnNotFound, chat_turn_workflow_id
from core.errors import AppError
from core.models import ApiKey, ApiTurn, Job, JobKind, JobStatus
from core.models.base import new_id, utcnow
from core.subscriptions import ensure_current_period

# An answer whose stream events were lost is given from the stored reply: its text is kept this
# long after the turn started, then forgotten (no stored conversation: docs/openai-api.md).
REPLY_KEPT = timedelta(hours=1)


class KeyBudgetExceeded(AppError):
    status_code = 429
    code = "budget_exceeded"
    message = "This API key has used its monthly budget of {budget} studio tokens. It renews on {renews}."


@dataclass(frozen=True)
class NewApiTurn:
    turn_id: str
    workflow_id: str
    max_output_tokens: int  # the request's cap, shrunk to what the key's budget has left


async def start_api_turn(
    session: AsyncSession,
    *,
    key: ApiKey,
    model: ModelInfo,
    request: dict[str, Any],
    input_estimate: int,
    max_output_tokens: int,
    min_output_tokens: int,
    end_user: str = "",
) -> NewApiTurn:
    """Record the turn's job and request; with a monthly budget, under the family's lock and
    only if what the family has counted plus this turn's most fits (the output cap shrinks to
    fit, down to ``min_output_tokens``)."""
    family = apikeys.family_of(key)
    cap = max_output_tokens
    await ensure_current_period(session, key.user_id)  # the turn falls in the period it is billed in
    if key.monthly_budget is not None:
        await apikeys.lock_family(session, family)
        spend = await apikeys.family_spend(session, key.user_id, family)
        remaining = key.monthly_budget - spend.counted
        cap = min(cap, apikeys.output_tokens_within(remaining, model.token_weight, input_estimate))
        if cap < min_output_tokens:
            renews = spend.period_end.date().isoformat()
            raise KeyBudgetExceeded(budget=key.monthly_budget, renews=renews)
    now = utcnow()
    turn_id = new_id()
    workflow_id = chat_turn_workflow_id(turn_id)
    job = {
        "id": turn_id,
        "user_id": key.user_id,
        "kind": JobKind.chat.value,
        "workflow_id": workflow_id,
        "status": JobStatus.running.value,
        "created_at": now,
        "updated_at": now,
    }
    await session.execute(_INSERT_JOB, job)
    turn = {
        "id": turn_id,
        "user_id": key.user_id,
        "api_key_id": key.id,
        "family_id": family,
        "model": model.id,
        "request": request,
        "max_studio_tokens": studio_tokens(model, input_estimate, cap),
        "input_tokens": 0,
        "output_tokens": 0,
        "studio_tokens": 0,
        "end_user": end_user[:256],
        "created_at": now,
    }
    await session.execute(_INSERT_TURN, turn)
    return NewApiTurn(turn_id, workflow_id, cap)


async def turn_request(session: AsyncSession, turn_id: str) -> dict[str, Any] | None:
    """The request of a running API turn; None once its reply is stored."""
    row = (await session.execute(_REQUEST, {"turn_id": turn_id})).one_or_none()
    if row is None:
        raise TurnNotFound()
    return cast(dict[str, Any] | None, row[0])


async def store_api_reply(session: AsyncSession, turn_id: str, reply: ReplyRecord) -> None:
    """Keep the reply's usage (and its text, for ``REPLY_KEPT``), forget the request and close
    the job."""
    now = utcnow()
    usage = {
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "studio_tokens": reply.studio_tokens,
        "stopped": reply.stopped,
        "reply": reply.text,
    }
    await session.execute(_STORE, {"turn_id": turn_id, **usage})
    status = JobStatus.cancelled if reply.stopped else JobStatus.succeeded
    closed = {"job_status": status.value, "cost_tokens": reply.studio_tokens, "now": now}
    await session.execute(_CLOSE_JOB, {"turn_id": turn_id, **closed})


async def stored_api_reply(session: AsyncSession, turn_id: str) -> ReplyRecord | None:
    """What the stream activity stored, if it got that far (the text is "" once forgotten)."""
    row = (await session.execute(_STORED, {"turn_id": turn_id})).one_or_none()
    if row is None or row.stopped is None:
        return None
    text = row.reply or ""
    return ReplyRecord(text, row.input_tokens, row.output_tokens, row.studio_tokens, bool(row.stopped))


async def forget_replies(session: AsyncSession, now: datetime | None = None) -> int:
    """Forget the text of API replies of turns older than ``REPLY_KEPT``; how many."""
    older_than = (now or utcnow()) - REPLY_KEPT
    result = await session.execute(_FORGET, {"older_than": older_than})
    return int(getattr(result, "rowcount", 0) or 0)


# Built once: every API turn runs them.
_turns = cast(Table, ApiTurn.__table__)
_jobs = cast(Table, Job.__table__)
_INSERT_JOB = insert(_jobs)
_INSERT_TURN = insert(_turns)
_REQUEST = select(_turns.c.request).where(_turns.c.id == bindparam("turn_id"))
_STORED = select(
    _turns.c.input_tokens, _turns.c.output_tokens, _turns.c.studio_tokens, _turns.c.stopped, _turns.c.reply
).where(_turns.c.id == bindparam("turn_id"))
_FORGET = (
    update(_turns)
    .where(_turns.c.reply.is_not(None), _turns.c.created_at < bindparam("older_than"))
    .values(reply=None)
)
_STORE = (
    update(_turns)
    .where(_turns.c.id == bindparam("turn_id"))
    .values(
        request=None,
        input_tokens=bindparam("input_tokens"),
        output_tokens=bindparam("output_tokens"),
        studio_tokens=bindparam("studio_tokens"),
        stopped=bindparam("stopped"),
        reply=bindparam("reply"),
    )
)
_CLOSE_JOB = (
    update(_jobs)
    .where(_jobs.c.id == bindparam("turn_id"))
    .values(status=bindparam("job_status"), cost_tokens=bindparam("cost_tokens"), updated_at=bindparam("now"))
)
