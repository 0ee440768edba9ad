"""Chat activities: stream a reply from the provider onto the stream bus, and finish or fail
the turn. Deltas go to the bus (never through Temporal); the reply text goes to the database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.catalog import resolve_model, studio_tokens
from core.chat import ReplyRecord, estimate_tokens, fail_turn, store_reply, turn_messages
from core.db import Database
from core.i18n import translate
from core.settings import Settings
from providers.llm import ChatMessage, ChatRequest, LLMClient, TextDelta, Usage
from providers.llm.errors import NonRetryableProviderError, RetryableProviderError
from providers.streams import StreamBus
from providers.streams.publisher import CoalescingPublisher

HEARTBEAT_EVERY_S = 0.25
ERROR_MESSAGES = {
    "quota_exceeded": "You have used up your tokens. Upgrade your plan or add tokens to continue.",
    "moderation_blocked": "This message can't be sent because it goes against our content policy.",
    "model_unavailable": "This model is not available right now. Choose another model.",
    "provider_error": "The model could not answer right now. Please try again.",
}


@dataclass
class StreamInput:
    turn_id: str
    model: str
    max_output_tokens: int
    moderate: bool


@dataclass
class StreamResult:
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    studio_tokens: int
    stopped: bool


@dataclass
class FinishInput:
    turn_id: str
    studio_tokens: int
    input_tokens: int
    output_tokens: int
    stopped: bool


@dataclass
class FailInput:
    turn_id: str
    code: str  # quota_exceeded | moderation_blocked | provider_error | model_unavailable | cancelled
    locale: str


class ChatActivities:
    def __init__(self, settings: Settings, db: Database, llm: LLMClient, bus: StreamBus) -> None:
        self.settings = settings
        self.db = db
        self.llm = llm
        self.bus = bus

    @activity.defn(name="chat.stream_reply")
    async def stream_reply(self, data: StreamInput) -> StreamResult:
        """Moderate, then stream; on cancel close the upstream call and keep the partial reply."""
        if activity.info().attempt > 1:
            await self.bus.publish(data.turn_id, "restart", {"attempt": activity.info().attempt})
        model = resolve_model(data.model, self.settings)
        async with self.db.session() as session:
            budget = model.context_window - data.max_output_tokens
            messages = await turn_messages(session, data.turn_id, budget)
        moderated = "moderated" in activity.info().heartbeat_details  # a retry doesn't ask again
        if data.moderate and not moderated:
            await self._moderate(messages[-1][1])
        heartbeat = asyncio.create_task(_heartbeat_forever("moderated"))
        try:
            return await self._stream(data, messages)
        finally:
            heartbeat.cancel()

    async def _moderate(self, text: str) -> None:
        try:
            verdict = await self.llm.moderate(text)
        except RetryableProviderError as error:
            raise ApplicationError(
                str(error), type="provider_retryable", next_retry_delay=_delay(error)
            ) from None
        if verdict.flagged:
            raise ApplicationError(
                "moderation_blocked",
                ",".join(verdict.categories),
                type="moderation_blocked",
                non_retryable=True,
            )

    async def _stream(self, data: StreamInput, messages: list[tuple[str, str]]) -> StreamResult:
        request = ChatRequest(
            model=data.model,
            messages=[ChatMessage(role=role, content=content) for role, content in messages],  # type: ignore[arg-type]
            max_output_tokens=data.max_output_tokens,
        )
        parts: list[str] = []
        chunks = 0
        usage: Usage | None = None
        deltas = CoalescingPublisher(self.bus, data.turn_id)
        try:
            # aclosing: whatever ends the loop (Stop, a bus error) closes the upstream stream at once.
            upstream = cast(AsyncGenerator[TextDelta | Usage, None], self.llm.stream_chat(request))
            async with contextlib.aclosing(upstream) as stream:
                async for item in stream:
                    if isinstance(item, TextDelta):
                        parts.append(item.text)
                        chunks += 1
                        deltas.add(item.text)
                    else:
                        usage = item
            await deltas.drain()
        except asyncio.CancelledError:
            await deltas.drain()
            input_estimate = sum(estimate_tokens(content) for _role, content in messages)
            received = max(chunks, estimate_tokens("".join(parts)) - 4) if parts else 0
            partial = Usage(input_tokens=input_estimate, output_tokens=received)
            return await self._store(data, "".join(parts), partial, stopped=True)
        except RetryableProviderError as error:
            raise ApplicationError(
                str(error), type="provider_retryable", next_retry_delay=_delay(error)
            ) from None
        except NonRetryableProviderError as error:
            raise ApplicationError(
                str(error), error.code or "", type="provider_rejected", non_retryable=True
            ) from None
        if usage is None:
            raise ApplicationError("stream ended without usage", type="provider_retryable")
        return await self._store(data, "".join(parts), usage, stopped=False)

    async def _store(self, data: StreamInput, text: str, usage: Usage, *, stopped: bool) -> StreamResult:
        model = resolve_model(data.model, self.settings)
        charged = studio_tokens(model, usage.input_tokens, usage.output_tokens)
        record = ReplyRecord(text, usage.input_tokens, usage.output_tokens, charged, stopped)
        async with self.db.session() as session:
            await store_reply(session, data.turn_id, record)
        return StreamResult(usage.input_tokens, usage.output_tokens, usage.cached_tokens, charged, stopped)

    @activity.defn(name="chat.finish")
    async def finish(self, data: FinishInput) -> None:
        usage = {
            "input_tokens": data.input_tokens,
            "output_tokens": data.output_tokens,
            "studio_tokens": data.studio_tokens,
        }
        await self.bus.publish_many(
            data.turn_id, [("usage", usage), ("done", {"stopped": data.stopped, "usage": usage})]
        )

    @activity.defn(name="chat.fail")
    async def fail(self, data: FailInput) -> None:
        """Record why the turn ended without a reply and tell the client, in its language."""
        if data.code == "cancelled":  # stopped before any text arrived
            async with self.db.session() as session:
                await store_reply(session, data.turn_id, ReplyRecord("", 0, 0, 0, stopped=True))
            usage = {"input_tokens": 0, "output_tokens": 0, "studio_tokens": 0}
            await self.bus.publish(data.turn_id, "done", {"stopped": True, "usage": usage})
            return
        message = translate(ERROR_MESSAGES.get(data.code, ERROR_MESSAGES["provider_error"]), data.locale)
        async with self.db.session() as session:
            await fail_turn(session, data.turn_id, data.code, message)
        await self.bus.publish(data.turn_id, "error", {"code": data.code, "message": message})


async def _heartbeat_forever(*details: str) -> None:
    while True:
        activity.heartbeat(*details)
        await asyncio.sleep(HEARTBEAT_EVERY_S)


def _delay(error: RetryableProviderError) -> timedelta | None:
    return timedelta(seconds=error.retry_after) if error.retry_after else None
