"""Helpers for chat tests: read SSE from the API, drive the emulator's control API."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Event:
    id: str
    type: str
    data: dict[str, Any]


@dataclass
class Stream:
    events: list[Event] = field(default_factory=list)

    @property
    def text(self) -> str:
        out = ""
        for event in self.events:
            if event.type == "restart":
                out = ""
            elif event.type == "delta":
                out += event.data["text"]
        return out

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.type == kind]

    @property
    def last(self) -> Event:
        return self.events[-1]


async def read_events(
    client: httpx.AsyncClient,
    url: str,
    *,
    last_event_id: str | None = None,
    stop_after: int | None = None,
    on_event: Any = None,
) -> Stream:
    """Read SSE frames until a terminal event (or ``stop_after`` events, then disconnect)."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    stream = Stream()
    async with client.stream("GET", url, headers=headers, timeout=60) as response:
        assert response.status_code == 200, await response.aread()
        event: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "event" in event:
                    parsed = Event(event.get("id", ""), event["event"], json.loads(event.get("data", "{}")))
                    stream.events.append(parsed)
                    if on_event is not None:
                        await on_event(parsed)
                    if parsed.type in ("done", "error"):
                        break
                    if stop_after is not None and len(stream.events) >= stop_after:
                        break
                event = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")
    return stream


async def parse_sse_response(response: httpx.Response) -> Stream:
    stream = Stream()
    event: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "event" in event:
                stream.events.append(
                    Event(event.get("id", ""), event["event"], json.loads(event.get("data", "{}")))
                )
                if event["event"] in ("done", "error"):
                    break
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")
    return stream
