"""A turn's stream-bus events as OpenAI ``chat.completion.chunk`` SSE frames or one
``chat.completion``.

A provider attempt that is retried after part of its reply went out (the bus's ``restart``)
cannot be taken back in OpenAI's format: a non-streaming answer simply starts over; a stream
that already sent text ends with an error frame and the turn is stopped, so it is billed for
no more than what was sent (the failed attempt is never billed: DESIGN "Streaming").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from api.chat.sse import finished_without_events
from api.openai.errors import OpenAIError, body
from api.relay import Pause, follow
from core.apiturns import stored_api_reply
from core.db import Database
from core.i18n import translate
from providers.streams import StreamBus, StreamEvent

_background: set[asyncio.Task[None]] = set()

# A turn's error codes (ChatActivities.fail) as OpenAI errors: status, type, code.
TURN_ERRORS: dict[str, tuple[int, str, str]] = {
    "quota_exceeded": (429, "insufficient_quota", "insufficient_quota"),
    "moderation_blocked": (400, "invalid_request_error", "content_policy_violation"),
    "model_unavailable": (503, "server_error", "model_unavailable"),
    "unavailable": (503, "server_error", "service_unavailable"),
}


def turn_error(data: dict[str, Any]) -> OpenAIError:
    """The turn's ``error`` event (its message is already in the owner's language)."""
    code = str(data.get("code") or "provider_error")
    status, kind, openai_code = TURN_ERRORS.get(code, (502, "server_error", code))
    headers = {"x-should-retry": "false"} if kind == "insufficient_quota" else None
    message = str(data.get("message") or "The model could not answer right now. Please try again.")
    return OpenAIError(status, message, type=kind, code=openai_code, headers=headers)


class TurnEvents:
    """The turn's events in order, read as chat's relay reads them (api/relay.py's ``follow``):
    through a Redis or PostgreSQL outage it waits (``Pause.waiting``), events of an attempt
    older than the newest ``restart`` are dropped, and a turn final in the database whose final
    event is not coming ends with its stored outcome (chat's ``finished_without_events``).
    ``Pause.keepalive`` when nothing came for a keepalive's time."""

    def __init__(self, bus: StreamBus, db: Database, turn_id: str) -> None:
        self.turn_id = turn_id
        summary = functools.partial(finished_without_events, bus, db, turn_id, stored_api_reply)
        self._events = follow(bus, turn_id, None, summary)

    async def next(self) -> StreamEvent | Pause:
        return await anext(self._events)

    async def first(self) -> StreamEvent:
        """The first event that decides the answer's status: text, or the end of the turn."""
        while True:
            event = await self.next()
            if isinstance(event, StreamEvent) and event.type != "restart":
                return event

    async def aclose(self) -> None:
        await self._events.aclose()


@dataclass
class Answer:
    """What a completion reports: the turn's id and model, its output cap and, at the end, usage."""

    turn_id: str
    model: str
    cap: int
    created: int = field(default_factory=lambda: int(time.time()))
    usage: dict[str, int] | None = None

    @property
    def id(self) -> str:
        return f"chatcmpl-{self.turn_id}"

    def finish_reason(self) -> str:
        output = (self.usage or {}).get("output_tokens", 0)
        return "length" if output >= self.cap else "stop"

    def usage_out(self) -> dict[str, Any]:
        usage = self.usage or {}
        prompt, completion = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "studio_tokens": usage.get("studio_tokens", 0),  # what the plan was charged
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        frame = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        return data_frame(frame)

    def usage_chunk(self) -> bytes:
        frame = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": self.usage_out(),
        }
        return data_frame(frame)

    def completion(self, text: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": self.finish_reason(),
                    "logprobs": None,
                }
            ],
            "usage": self.usage_out(),
        }


def data_frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


DONE_FRAME = b"data: [DONE]\n\n"


async def collect(events: TurnEvents, first: StreamEvent, answer: Answer) -> str:
    """The whole reply (a retried attempt starts the text over); raises the turn's error.

    A retry that only finds the reply already stored (its attempt's completion was lost) sends
    ``restart`` and no text: the text before it was the whole reply, so it is kept."""
    parts: list[str] = []
    before_restart: list[str] = []
    event: StreamEvent | Pause = first
    while True:
        if isinstance(event, Pause):
            pass
        elif event.type == "delta":
            parts.append(str(event.data.get("text", "")))
        elif event.type == "restart":
            before_restart, parts = parts or before_restart, []
        elif event.type == "usage":
            answer.usage = dict(event.data)
        elif event.type == "done":
            answer.usage = answer.usage or dict(event.data.get("usage") or {})
            return stored_text(event) or "".join(parts or before_restart)
        elif event.type == "error":
            raise turn_error(event.data)
        event = await events.next()


async def sse(
    events: TurnEvents,
    first: StreamEvent,
    answer: Answer,
    *,
    include_usage: bool,
    locale: str,
    stop: Callable[[], Awaitable[None]],
    on_usage: Callable[[dict[str, int]], Awaitable[None]],
) -> AsyncIterator[bytes]:
    """SSE frames until ``[DONE]``; a client that leaves early stops the turn (billed for what
    it received, like Stop)."""
    finished = False
    try:
        yield answer.chunk({"role": "assistant", "content": ""})
        sent_text = ""
        event: StreamEvent | Pause = first
        while True:
            if isinstance(event, Pause):
                yield event.value  # a keepalive, or waiting through an outage
            elif event.type == "delta":
                text = str(event.data.get("text", ""))
                sent_text += text
                yield answer.chunk({"content": text})
            elif event.type == "restart" and sent_text:
                finished = True
                await stop()
                message = translate("The model's reply was interrupted. Please try again.", locale)
                yield data_frame(body(message, "server_error", "stream_interrupted", None))
                return
            elif event.type == "usage":
                answer.usage = dict(event.data)
            elif event.type == "done":
                finished = True
                answer.usage = answer.usage or dict(event.data.get("usage") or {})
                if rest := unsent_rest(stored_text(event), sent_text):
                    yield answer.chunk({"content": rest})
                yield answer.chunk({}, answer.finish_reason())
                if include_usage:
                    yield answer.usage_chunk()
                yield DONE_FRAME
                await on_usage(answer.usage)
                return
            elif event.type == "error":
                finished = True
                error = turn_error(event.data)
                yield data_frame(body(error.message, error.type, error.code, None))
                return
            event = await events.next()
    finally:
        if not finished:  # the client went away: stop the turn off this (cancelled) task
            _in_background(stop())
        await events.aclose()


def stored_text(event: StreamEvent) -> str | None:
    """The whole reply a ``done`` summarised from the database carries (api/chat/sse.py's
    ``summary_of``): the deltas may not all have come (the stream expired or was lost)."""
    text = event.data.get("text")
    return str(text) if text is not None else None


def unsent_rest(stored: str | None, sent: str) -> str:
    """What of the stored reply a stream has not sent yet; nothing when what it sent is not the
    start of it (the sent text cannot be taken back)."""
    if stored is None or not stored.startswith(sent):
        return ""
    return stored[len(sent) :]


def stopper(bus: StreamBus, client: Client, turn_id: str, workflow_id: str) -> Callable[[], Awaitable[None]]:
    """Stop's two paths: the fast one over the bus, the durable one by cancelling the workflow."""

    async def stop() -> None:
        await bus.request_stop(turn_id)
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(workflow_id).cancel()

    return stop


def _in_background(work: Awaitable[None]) -> None:
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)
