"""Before a chat turn is recorded: can the balance pay for at least a short reply to it?

The turn's workflow reservation stays the authority (two tabs may race for the last tokens);
this check only turns the common case, a message longer than what is left, into a clear,
synchronous 402 that says what the message needs and what is left, with nothing recorded."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger, subscriptions
from core.catalog import ModelInfo, studio_tokens
from core.chat import TurnQuotaExceeded
from core.errors import AppError


class MessageNeedsMoreTokens(AppError):
    status_code = 402
    code = "quota_exceeded"
    message = (
        "This message needs about {needed} tokens but {available} are left. "
        "Shorten it, start a new conversation or add tokens."
    )

    def __init__(self, *, needed: int, available: int) -> None:
        super().__init__(needed=needed, available=available)
        self.needed = needed
        self.available = available


def tokens_needed(model: ModelInfo, input_tokens_estimate: int, min_output_tokens: int) -> int:
    """The least a turn's reservation accepts (the workflow's ``min_amount``)."""
    return max(1, studio_tokens(model, input_tokens_estimate, min_output_tokens))


FAIR_SHARE = 2  # a reply with the default cap holds at most 1/2 of what is available …
MIN_DEFAULT_OUTPUT = 1024  # … but is never capped below this by that rule


def fair_output_cap(model: ModelInfo, cap: int, available: int, input_tokens_estimate: int) -> int:
    """The default output cap shrunk so the turn holds at most a fair share of the balance
    (GPT-5's 8k default × 5 would hold a whole Free balance): other tabs keep chatting. A
    request that names ``max_tokens`` is not shrunk (the reservation may still be reduced)."""
    share = int(available / FAIR_SHARE / model.token_weight) - input_tokens_estimate
    return max(min(cap, MIN_DEFAULT_OUTPUT), min(cap, share))


async def ensure_affordable(
    session: AsyncSession,
    user_id: str,
    model: ModelInfo,
    input_tokens_estimate: int,
    min_output_tokens: int,
    locale: str | None = None,
) -> int:
    """What is available now; when even the shortest reply cannot be reserved, raise (the caller
    rolls back) ``TurnQuotaExceeded`` naming what replies in progress hold, if they hold any,
    else ``MessageNeedsMoreTokens`` (what the message needs and what is left)."""
    needed = tokens_needed(model, input_tokens_estimate, min_output_tokens)
    await subscriptions.ensure_current_period(session, user_id)  # new user → Free, like reserve
    have = await ledger.available(session, user_id, "tokens")
    if have < needed:
        held = (await ledger.usage(session, user_id)).units["tokens"].reserved
        if held > 0:
            raise TurnQuotaExceeded(held=held, locale=locale)
        raise MessageNeedsMoreTokens(needed=needed, available=have)
    return have
