"""Chat activities: stream a reply from the provider onto the stream bus, and finish or fail
the turn. Deltas go to the bus (never through Temporal); the reply text goes to the database.

Under faults (docs/chat.md "Faults"): every event an attempt publishes carries its attempt
number; an attempt replaced by a newer one (its heartbeat timed out) stops publishing and closes
its upstream call; PostgreSQL or Redis errors are retried on a schedule that rides out the
outage budget, and a reply already complete is stored again, never asked for again."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.attachments import Attachments
from activities.ledger import LedgerActivities, ReleaseInput, SettleInput
from activities.openai_turns import load_api_turn
from core.apiturns import store_api_reply, stored_api_reply
from core.catalog import MODELS, resolve_model, studio_tokens
from core.chat import (
    ReplyRecord,
    estimate_tokens,
    fail_turn,
    failed_turn_code,
    quota_message,
    store_reply,
    stored_reply,
    trim_history,
    turn_error_message,
    turn_history_files,
)
from core.db import Database
from core.metrics import (
    CHAT_FIRST_DELTA,
    CHAT_PROVIDER_TOKENS,
    CHAT_STUDIO_TOKENS,
    CHAT_TURNS,
    PROVIDER_ERRORS,
)
from core.outages import is_outage
from core.settings import Settings
from providers.llm import ChatMessage, ChatRequest, LLMClient, TextDelta, Usage
from providers.llm.errors import NonRetryableProviderError, RetryableProviderError
from providers.streams import StreamBus
from providers.streams.publisher import CoalescingPublisher

T = TypeVar("T")
log = structlog.get_logger(__name__)
HEARTBEAT_EVERY_S = 0.5
HEARTBEAT_AFTER_S = 1.0
PROVIDER_ATTEMPTS = 5  # provider errors (429/5xx/cut streams) are retried this many times in all
OUTAGE_RETRY_MAX_S = 5.0  # infrastructure errors: the longest wait between tries


@dataclass
class StreamInput:
    turn_id: str
    model: str
    max_output_tokens: int
    moderate: bool
    outage_budget_s: float = 120.0  # infrastructure errors are ridden out this long
    stateless: bool = False  # an OpenAI-API turn: its request is in api_turns, no conversation


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
    stateless: bool = False


@dataclass
class FinishFailedInput:
    turn_id: str
    key: str  # the reservation's
    code: str
    locale: str
    model: str = ""


@dataclass
class FinishFailedResult:
    status: str  # succeeded | stopped (a stored reply, billed) | failed
    studio_tokens: int = 0
    error_code: str | None = None


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
        progress = _Progress.from_details(activity.info().heartbeat_details)
        # From the start: an attempt blocked on PostgreSQL or Redis still heartbeats (so it is
        # not replaced while it waits). No heartbeat for a short reply (each one is a Temporal write).
        heartbeat = asyncio.create_task(_heartbeat_forever(progress.details, first_after=HEARTBEAT_AFTER_S))
        try:
            return await self._attempt(data, progress)
        except ApplicationError:
            activity.heartbeat(*progress.details())  # sent with the failure: read by the retry
            raise
        except Exception as error:
            if not is_outage(error):
                raise
            activity.heartbeat(*progress.details())
            raise _outage_error(data, error) from None
        finally:
            heartbeat.cancel()

    async def _attempt(self, data: StreamInput, progress: _Progress) -> StreamResult:
        attempt = activity.info().attempt
        if attempt > 1:
            async with self.db.reader() as session:
                kept = await stored_reply(session, data.turn_id)
            if kept is not None and not kept.stopped:
                # An earlier attempt stored the whole reply and its completion was lost (a
                # Temporal restart, a crash just after): bill it, never ask the provider again.
                return StreamResult(kept.input_tokens, kept.output_tokens, 0, kept.studio_tokens, False)
            await self.bus.publish(data.turn_id, "restart", {"attempt": attempt})
        model = resolve_model(data.model, self.settings)
        request: ChatRequest | None = None
        budget = model.context_window - data.max_output_tokens
        history: list[tuple[str, str, str]] = []
        carrying: frozenset[str] = frozenset()  # the turns whose question has files
        async with self.db.reader() as session:
            if attempt == 1 and (ended := await failed_turn_code(session, data.turn_id)) is not None:
                # a late start of a turn already failed (docs/operations.md, "Rows without a
                # workflow"): never asked for, never billed; the workflow releases its hold
                raise ApplicationError("the turn already failed", type=ended, non_retryable=True)
            if data.stateless:
                request, messages = await load_api_turn(
                    session, data.turn_id, data.model, data.max_output_tokens
                )
                if request is None:  # stored by an earlier attempt whose completion was lost
                    return await self._stored_result(session, data.turn_id)
            else:
                history, carrying = await turn_history_files(session, data.turn_id)
                messages = trim_history([(role, content) for role, content, _ in history], budget)
        # Moderation runs beside the completion (docs/chat.md "Moderation"): the deltas are
        # held until the verdict; a retry whose earlier attempt passed doesn't ask again.
        verdict = None
        if data.moderate and not progress.moderated:
            verdict = asyncio.ensure_future(self._moderate(messages[-1][1], progress))
        try:
            if self.attachments is not None and not data.stateless:
                # every message with the files it carried (activities/attachments.py)
                vision = "vision" in model.capabilities
                sent = await self.attachments.prepare(history, budget, vision=vision, carrying=carrying)
                messages = [(message.role, message.content) for message in sent]
                request = ChatRequest(
                    model=data.model, messages=sent, max_output_tokens=data.max_output_tokens
                )
            question = history[-1][1] if history else None  # titles the conversation on store
            return await self._stream(data, messages, attempt, request, verdict, question)
        except ApplicationError as error:
            if error.type == "provider_retryable":
                progress.provider_failures += 1
                if progress.provider_failures >= PROVIDER_ATTEMPTS:
                    raise ApplicationError(
                        str(error), type="provider_retryable", non_retryable=True
                    ) from None
            raise
        finally:
            if verdict is not None:
                _forget(verdict)

    async def _moderate(self, text: str, progress: _Progress) -> None:
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
        progress.moderated = True

    async def _stream(
        self,
        data: StreamInput,
        messages: list[tuple[str, str]],
        attempt: int,
        request: ChatRequest | None = None,
        verdict: asyncio.Future[None] | None = None,
        question: str | None = None,
    ) -> StreamResult:
        """Pump the upstream stream until it ends, a Stop arrives over the bus, or Temporal
        cancels the activity; the last two keep what was received. A cancel that is not a
        Stop (this attempt's heartbeat timed out and a newer attempt runs) drops everything.
        With a pending moderation ``verdict`` nothing is published before it passes; a flagged
        prompt closes the upstream call and fails the attempt (nothing stored, nothing billed)."""
        request = request or ChatRequest(
            model=data.model,
            messages=[ChatMessage(role=role, content=content) for role, content in messages],  # type: ignore[arg-type]
            max_output_tokens=data.max_output_tokens,
        )
        reply = _Reply(
            CoalescingPublisher(self.bus, data.turn_id, extra={"attempt": attempt}), held=verdict is not None
        )
        pump = asyncio.ensure_future(self._pump(request, reply, verdict))
        async with self.bus.watch_stop(data.turn_id) as stop_requested:
            stop = asyncio.ensure_future(stop_requested.wait())
            try:
                await asyncio.wait({pump, stop}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                if _superseded():
                    await _abandon(pump, reply, verdict)
                    raise
                stop_requested.set()  # Temporal's cancel: same as a Stop
            finally:
                stop.cancel()
        if not pump.done() or stop_requested.is_set():
            kept = self._keep_partial(data, messages, pump, reply, verdict, question)
            return await _finish_despite_cancel(kept)
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
        stored = self._store_riding_out_outages(data, reply.text, reply.usage, question)
        return await _finish_despite_cancel(stored)

    async def _keep_partial(
        self,
        data: StreamInput,
        messages: list[tuple[str, str]],
        pump: asyncio.Future[None],
        reply: _Reply,
        verdict: asyncio.Future[None] | None = None,
        question: str | None = None,
    ) -> StreamResult:
        pump.cancel()  # aclosing() in _pump closes the upstream HTTP stream
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
        if verdict is not None and reply.held:
            await verdict  # stopped before the verdict: a flagged prompt still ends as blocked
            reply.release()
        await reply.deltas.drain()
        input_estimate = sum(estimate_tokens(content) for _role, content in messages)
        usage = reply.partial_usage(input_estimate)
        return await self._store(data, reply.text, usage, stopped=True, question=question)

    async def _pump(self, request: ChatRequest, reply: _Reply, verdict: asyncio.Future[None] | None) -> None:
        """Read the upstream stream; with a pending verdict, publish only once it passes."""
        if verdict is None:
            return await self._read(request, reply)
        reading = asyncio.ensure_future(self._read(request, reply))
        try:
            await asyncio.shield(verdict)  # a flagged prompt raises here; `finally` closes the call
            reply.release()
            await reading
            await reply.deltas.drain()  # the reply may have ended before the verdict
        finally:
            if not reading.done():
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reading
            _forget(reading)

    async def _read(self, request: ChatRequest, reply: _Reply) -> None:
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
        if not reply.held:
            await reply.deltas.drain()

    async def _store_riding_out_outages(
        self, data: StreamInput, text: str, usage: Usage, question: str | None = None
    ) -> StreamResult:
        """The whole reply came: store it, retrying through a database outage (the heartbeat
        goes on meanwhile) rather than failing the attempt and asking the provider again."""
        return await _ride_out(data, lambda: self._store(data, text, usage, stopped=False, question=question))

    async def _store(
        self, data: StreamInput, text: str, usage: Usage, *, stopped: bool, question: str | None = None
    ) -> StreamResult:
        model = resolve_model(data.model, self.settings)
        charged = studio_tokens(model, usage.input_tokens, usage.output_tokens)
        record = ReplyRecord(text, usage.input_tokens, usage.output_tokens, charged, stopped)
        if data.stateless:
            async with self.db.session() as session:
                await store_api_reply(session, data.turn_id, record)
        else:  # with the question, PostgreSQL stores it in one statement: no BEGIN/COMMIT
            one = question is not None and not self.db.is_sqlite
            async with self.db.one_statement() if one else self.db.session() as session:
                await store_reply(session, data.turn_id, record, question=question)
        return StreamResult(usage.input_tokens, usage.output_tokens, usage.cached_tokens, charged, stopped)

    async def _stored_result(self, session: AsyncSession, turn_id: str) -> StreamResult:
        reply = await stored_api_reply(session, turn_id)
        if reply is None:
            raise ApplicationError("the API turn has neither a request nor a reply", type="provider_rejected")
        return StreamResult(reply.input_tokens, reply.output_tokens, 0, reply.studio_tokens, reply.stopped)

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
        stored, store = (stored_api_reply, store_api_reply) if data.stateless else (stored_reply, store_reply)
        async with self.db.reader() as session:
            reply = await stored(session, data.turn_id)
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
            await store(session, data.turn_id, ReplyRecord("", 0, 0, 0, stopped=True))
        usage = {"input_tokens": 0, "output_tokens": 0, "studio_tokens": 0}
        await self.bus.publish(data.turn_id, "done", {"stopped": True, "usage": usage})
        CHAT_TURNS.labels(_provider(data.model), data.model, "stopped").inc()
        return FinishStoppedResult(0, stopped=True)

    @activity.defn(name="chat.finish_failed")
    async def finish_failed(self, data: FinishFailedInput) -> FinishFailedResult:
        """Finish a turn whose stream step failed. A reply that was stored (the attempt stored
        it, then lost its completion to a Temporal restart or a crash) is kept and shown, so
        it is settled; otherwise the reservation is released and the error published."""
        async with self.db.reader() as session:
            reply = await stored_reply(session, data.turn_id)
        if reply is not None and (reply.text or not reply.stopped):
            settle = SettleReplyInput(
                data.turn_id,
                data.key,
                reply.studio_tokens,
                reply.input_tokens,
                reply.output_tokens,
                reply.stopped,
                data.model,
            )
            await self.settle(settle)
            return FinishFailedResult("stopped" if reply.stopped else "succeeded", reply.studio_tokens)
        await self.ledger.release(ReleaseInput(key=data.key, reason=data.code))
        await self.fail(FailInput(data.turn_id, data.code, data.locale, data.model))
        return FinishFailedResult("failed", 0, data.code)

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
            if data.code == "quota_exceeded":  # say so when concurrent turns hold the rest
                message = await quota_message(session, data.turn_id, data.locale) or message
            await fail_turn(session, data.turn_id, data.code, message)
        await self.bus.publish(data.turn_id, "error", {"code": data.code, "message": message})
        CHAT_TURNS.labels(_provider(data.model), data.model, data.code).inc()


@dataclass
class _Progress:
    """What an attempt tells the next one through its heartbeat details."""

    moderated: bool = False
    provider_failures: int = 0

    @classmethod
    def from_details(cls, details: Sequence[Any]) -> _Progress:
        failures = next((d for d in details if isinstance(d, int)), 0)
        return cls(moderated="moderated" in details, provider_failures=failures)

    def details(self) -> list[object]:
        return [*(["moderated"] if self.moderated else []), self.provider_failures]


def _superseded() -> bool:
    """Temporal cancelled this attempt for another reason than a Stop: its heartbeat timed out
    (a newer attempt streams now) or the worker is shutting down (one will)."""
    details = activity.cancellation_details()
    return details is not None and not details.cancel_requested


async def _abandon(pump: asyncio.Future[None], reply: _Reply, verdict: asyncio.Future[None] | None) -> None:
    reply.deltas.close()  # not one more event from this attempt
    pump.cancel()  # aclosing() in _pump closes the upstream HTTP stream
    if verdict is not None:
        verdict.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await pump
    log.info("chat.attempt_superseded", attempt=activity.info().attempt)


def _outage_error(data: StreamInput, error: BaseException) -> ApplicationError:
    """PostgreSQL or Redis failed this attempt: retried a few seconds later (never sooner than
    the provider's reply would be wasted) until the outage budget is spent."""
    info = activity.info()
    spent = (datetime.now(UTC) - info.scheduled_time).total_seconds()
    message = f"infrastructure unavailable: {type(error).__name__}"
    if spent > data.outage_budget_s:
        return ApplicationError(message, type="service_unavailable", non_retryable=True)
    delay = timedelta(seconds=min(OUTAGE_RETRY_MAX_S, 0.5 * 2 ** min(info.attempt, 4)))
    return ApplicationError(message, type="service_unavailable", next_retry_delay=delay)


async def _ride_out(data: StreamInput, work: Callable[[], Awaitable[T]]) -> T:
    """Retry ``work`` through infrastructure errors until the outage budget is spent."""
    started = time.monotonic()
    wait = 0.25
    while True:
        try:
            return await work()
        except Exception as error:
            if not is_outage(error) or time.monotonic() - started > data.outage_budget_s:
                raise
            log.warning("chat.store_retry", error=type(error).__name__, wait_s=wait)
        await asyncio.sleep(wait)
        wait = min(wait * 2, OUTAGE_RETRY_MAX_S / 2)


class _Reply:
    """What has come back so far: text parts (also published as deltas) and the usage."""

    def __init__(self, deltas: CoalescingPublisher, *, held: bool = False) -> None:
        self.deltas = deltas
        self.parts: list[str] = []
        self.usage: Usage | None = None
        self.held = held  # True until the moderation verdict passes: nothing is published

    def add(self, text: str) -> None:
        self.parts.append(text)
        if not self.held:
            self.deltas.add(text)

    def release(self) -> None:
        """The verdict passed: publish what came meanwhile (one delta), then each as it comes."""
        if self.held:
            self.held = False
            if self.parts:
                self.deltas.add(self.text)

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


def _forget(task: asyncio.Future[Any]) -> None:
    """Cancel a side task the attempt no longer waits for (and mark its error as seen)."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()


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


async def _heartbeat_forever(details: Callable[[], list[object]], first_after: float = 0.0) -> None:
    await asyncio.sleep(first_after)
    while True:
        activity.heartbeat(*details())
        await asyncio.sleep(HEARTBEAT_EVERY_S)


def _delay(error: RetryableProviderError) -> timedelta | None:
    return timedelta(seconds=error.retry_after) if error.retry_after else None
