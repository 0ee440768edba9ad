"""Chat activities: stream a reply from the provider onto the stream bus, and finish or fail
the turn. Deltas go to the bus (never through Temporal); the reply text goes to the database."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar, cast

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.attachments import Attachments
from activities.ledger import LedgerActivities, ReleaseInput, SettleInput
from core.catalog import MODELS, resolve_model, studio_tokens
from core.chat import (
    ReplyRecord,
    estimate_tokens,
    fail_turn,
    store_reply,
    stored_reply,
    turn_error_message,
    turn_messages,
)
from core.db import Database
from core.metrics import (
    CHAT_FIRST_DELTA,
    CHAT_PROVIDER_TOKENS,
    CHAT_STUDIO_TOKENS,
    CHAT_TURNS,
    PROVIDER_ERRORS,
)
from core.settings import Settings
from providers.llm import ChatMessage, ChatRequest, ImagePart, LLMClient, TextDelta, Usage
from providers.llm.errors import NonRetryableProviderError, RetryableProviderError
from providers.streams import StreamBus
from providers.streams.publisher import CoalescingPublisher

T = TypeVar("T")
HEARTBEAT_EVERY_S = 0.5
HEARTBEAT_AFTER_S = 1.0


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
class SettleReplyInput:
    turn_id: str
    key: str  # the reservation's
    studio_tokens: int
    input_tokens: int
    output_tokens: int
    stopped: bool
    model: str = ""  # for metrics; empty in turns started before it was added


@dataclass
class FailInput:
    turn_id: str
    code: str  # quota_exceeded | moderation_blocked | provider_error | model_unavailable | cancelled
    locale: str
    model: str = ""  # for metrics; empty in turns started before it was added


@dataclass
class FinishStoppedInput:
    turn_id: str
    key: str  # the reservation's
    model: str = ""


@dataclass
class FinishStoppedResult:
    studio_tokens: int
    stopped: bool  # False when the reply had in fact come in full before the stop


class ChatActivities:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        llm: LLMClient,
        bus: StreamBus,
        ledger: LedgerActivities,
        attachments: Attachments | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.llm = llm
        self.bus = bus
        self.ledger = ledger
        self.attachments = attachments  # a turn's attached files (activities/attachments.py)

    @activity.defn(name="chat.stream_reply")
    async def stream_reply(self, data: StreamInput) -> StreamResult:
        """Moderate, then stream; on Stop close the upstream call and keep the partial reply."""
        if activity.info().attempt > 1:
            await self.bus.publish(data.turn_id, "restart", {"attempt": activity.info().attempt})
        model = resolve_model(data.model, self.settings)
        async with self.db.reader() as session:
            budget = model.context_window - data.max_output_tokens
            messages = await turn_messages(session, data.turn_id, budget)
        moderated = "moderated" in activity.info().heartbeat_details  # a retry doesn't ask again
        if data.moderate and not moderated:
            await self._moderate(messages[-1][1])
        # No heartbeat for a short reply (each one is a Temporal write); Stop comes over the bus.
        heartbeat = asyncio.create_task(_heartbeat_forever("moderated", first_after=HEARTBEAT_AFTER_S))
        try:
            images: tuple[ImagePart, ...] = ()
            if self.attachments is not None:
                messages, images = await self.attachments.prepare(data.turn_id, messages, budget)
            return await self._stream(data, messages, images)
        except ApplicationError:
            activity.heartbeat("moderated")  # sent with the failure: the retry skips moderation
            raise
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

    async def _stream(
        self, data: StreamInput, messages: list[tuple[str, str]], images: tuple[ImagePart, ...] = ()
    ) -> StreamResult:
        """Pump the upstream stream until it ends, a Stop arrives over the bus, or Temporal
        cancels the activity; the last two keep what was received."""
        request = ChatRequest(
            model=data.model,
            messages=[ChatMessage(role=role, content=content) for role, content in messages],  # type: ignore[arg-type]
            max_output_tokens=data.max_output_tokens,
        )
        if images:  # the turn's own message carries its attached images
            last = request.messages[-1]
            request.messages[-1] = ChatMessage(role=last.role, content=last.content, images=images)
        reply = _Reply(CoalescingPublisher(self.bus, data.turn_id))
        pump = asyncio.ensure_future(self._pump(request, reply))
        async with self.bus.watch_stop(data.turn_id) as stop_requested:
            stop = asyncio.ensure_future(stop_requested.wait())
            try:
                await asyncio.wait({pump, stop}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                stop_requested.set()  # Temporal's cancel: same as a Stop
            finally:
                stop.cancel()
        if not pump.done() or stop_requested.is_set():
            return await _finish_despite_cancel(self._keep_partial(data, messages, pump, reply))
        try:
            pump.result()
        except RetryableProviderError as error:
            PROVIDER_ERRORS.labels(_provider(data.model), "retryable").inc()
            raise ApplicationError(
                str(error), type="provider_retryable", next_retry_delay=_delay(error)
            ) from None
        except NonRetryableProviderError as error:
            PROVIDER_ERRORS.labels(_provider(data.model), "rejected").inc()
            raise ApplicationError(
                str(error), error.code or "", type="provider_rejected", non_retryable=True
            ) from None
        if reply.usage is None:
            raise ApplicationError("stream ended without usage", type="provider_retryable")
        return await _finish_despite_cancel(self._store(data, reply.text, reply.usage, stopped=False))

    async def _keep_partial(
        self, data: StreamInput, messages: list[tuple[str, str]], pump: asyncio.Future[None], reply: _Reply
    ) -> StreamResult:
        pump.cancel()  # aclosing() in _pump closes the upstream HTTP stream
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
        await reply.deltas.drain()
        input_estimate = sum(estimate_tokens(content) for _role, content in messages)
        return await self._store(data, reply.text, reply.partial_usage(input_estimate), stopped=True)

    async def _pump(self, request: ChatRequest, reply: _Reply) -> None:
        # aclosing: whatever ends the loop (Stop, a bus error) closes the upstream stream at once.
        upstream = cast(AsyncGenerator[TextDelta | Usage, None], self.llm.stream_chat(request))
        asked = time.perf_counter()
        async with contextlib.aclosing(upstream) as stream:
            async for item in stream:
                if isinstance(item, TextDelta):
                    if not reply.parts:
                        CHAT_FIRST_DELTA.labels(_provider(request.model)).observe(time.perf_counter() - asked)
                    reply.add(item.text)
                else:
                    reply.usage = item
        await reply.deltas.drain()

    async def _store(self, data: StreamInput, text: str, usage: Usage, *, stopped: bool) -> StreamResult:
        model = resolve_model(data.model, self.settings)
        charged = studio_tokens(model, usage.input_tokens, usage.output_tokens)
        record = ReplyRecord(text, usage.input_tokens, usage.output_tokens, charged, stopped)
        async with self.db.session() as session:
            await store_reply(session, data.turn_id, record)
        return StreamResult(usage.input_tokens, usage.output_tokens, usage.cached_tokens, charged, stopped)

    @activity.defn(name="chat.settle")
    async def settle(self, data: SettleReplyInput) -> None:
        """Bill the reply (one local activity, not two: each costs the workflow a round trip),
        tell the client, then see whether the 80 % warning is due."""
        _output, warn = await self.ledger.settle_only(SettleInput(key=data.key, actual=data.studio_tokens))
        usage = {
            "input_tokens": data.input_tokens,
            "output_tokens": data.output_tokens,
            "studio_tokens": data.studio_tokens,
        }
        await self.bus.publish_many(
            data.turn_id, [("usage", usage), ("done", {"stopped": data.stopped, "usage": usage})]
        )
        _count_billed(data)
        if warn is not None:
            await self.ledger.warn_if_due(*warn)

    @activity.defn(name="chat.finish_stopped")
    async def finish_stopped(self, data: FinishStoppedInput) -> FinishStoppedResult:
        """Finish a turn whose workflow was cancelled (Stop): bill the reply the stream activity
        stored, else store an empty stopped reply and release the reservation. Reading the
        database, not the activity's result, matters: when the result and the cancel reach the
        workflow in one task, the SDK raises the cancel and the result is lost to the workflow."""
        async with self.db.reader() as session:
            reply = await stored_reply(session, data.turn_id)
        if reply is not None:
            await self.settle(
                SettleReplyInput(
                    data.turn_id,
                    data.key,
                    reply.studio_tokens,
                    reply.input_tokens,
                    reply.output_tokens,
                    reply.stopped,
                    data.model,
                )
            )
            return FinishStoppedResult(reply.studio_tokens, reply.stopped)
        await self.ledger.release(ReleaseInput(key=data.key))
        async with self.db.session() as session:
            await store_reply(session, data.turn_id, ReplyRecord("", 0, 0, 0, stopped=True))
        usage = {"input_tokens": 0, "output_tokens": 0, "studio_tokens": 0}
        await self.bus.publish(data.turn_id, "done", {"stopped": True, "usage": usage})
        CHAT_TURNS.labels(_provider(data.model), data.model, "stopped").inc()
        return FinishStoppedResult(0, stopped=True)

    @activity.defn(name="chat.fail")
    async def fail(self, data: FailInput) -> None:
        """Record why the turn ended without a reply and tell the client, in its language."""
        if data.code == "cancelled":  # only turns started before finish_stopped existed
            async with self.db.session() as session:
                await store_reply(session, data.turn_id, ReplyRecord("", 0, 0, 0, stopped=True))
            usage = {"input_tokens": 0, "output_tokens": 0, "studio_tokens": 0}
            await self.bus.publish(data.turn_id, "done", {"stopped": True, "usage": usage})
            return
        message = turn_error_message(data.code, data.locale)
        async with self.db.session() as session:
            await fail_turn(session, data.turn_id, data.code, message)
        await self.bus.publish(data.turn_id, "error", {"code": data.code, "message": message})
        CHAT_TURNS.labels(_provider(data.model), data.model, data.code).inc()


class _Reply:
    """What has come back so far: text parts (also published as deltas) and the usage."""

    def __init__(self, deltas: CoalescingPublisher) -> None:
        self.deltas = deltas
        self.parts: list[str] = []
        self.usage: Usage | None = None

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.deltas.add(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def partial_usage(self, input_estimate: int) -> Usage:
        """A stopped reply's usage: the provider's when it came, else counted from the text."""
        if self.usage is not None:
            return self.usage
        received = max(len(self.parts), estimate_tokens(self.text) - 4) if self.parts else 0
        return Usage(input_tokens=input_estimate, output_tokens=received)


def _provider(model_id: str) -> str:
    model = MODELS.get(model_id)
    return model.provider if model else "unknown"


def _count_billed(data: SettleReplyInput) -> None:
    provider = _provider(data.model)
    CHAT_TURNS.labels(provider, data.model, "stopped" if data.stopped else "succeeded").inc()
    CHAT_STUDIO_TOKENS.labels(provider, data.model).inc(data.studio_tokens)
    CHAT_PROVIDER_TOKENS.labels(provider, data.model, "input").inc(data.input_tokens)
    CHAT_PROVIDER_TOKENS.labels(provider, data.model, "output").inc(data.output_tokens)


async def _finish_despite_cancel(work: Awaitable[T]) -> T:
    """Once the reply is being stored, a Temporal cancel (it arrives with a heartbeat's answer)
    must not interrupt it: the activity then completes with the stored reply's usage."""
    task = asyncio.ensure_future(work)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                return task.result()


async def _heartbeat_forever(*details: str, first_after: float = 0.0) -> None:
    await asyncio.sleep(first_after)
    while True:
        activity.heartbeat(*details)
        await asyncio.sleep(HEARTBEAT_EVERY_S)


def _delay(error: RetryableProviderError) -> timedelta | None:
    return timedelta(seconds=error.retry_after) if error.retry_after else None
