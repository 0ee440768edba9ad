"""Before a chat turn is recorded: can the balance pay for at least a short reply to it?

The turn's workflow reservation stays the authority (two tabs may race for the last tokens);
this check only turns the common case, a message longer than what is left, into a clear,
synchronous 402 that says what the message needs and what is left, with nothing recorded."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger, subscriptions
from core.catalog import ModelInfo, studio_tokens
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


async def ensure_affordable(
    session: AsyncSession, user_id: str, model: ModelInfo, input_tokens_estimate: int, min_output_tokens: int
) -> None:
    """Raise ``MessageNeedsMoreTokens`` (the caller rolls back) when even the shortest reply
    cannot be reserved now."""
    needed = tokens_needed(model, input_tokens_estimate, min_output_tokens)
    await subscriptions.ensure_current_period(session, user_id)  # new user → Free, like reserve
    have = await ledger.available(session, user_id, "tokens")
    if have < needed:
        raise MessageNeedsMoreTokens(needed=needed, available=have)
