"""The stream bus: a job's events (deltas, usage, done, error, restart) keyed by job id.

Redis Streams in production (trimmed, expiring, shared by every process); in memory for
single-process dev. Event ids are monotonically increasing strings, so a client reconnecting
with ``Last-Event-ID`` gets exactly the events it missed."""

from __future__ import annotations

from providers.streams.base import StreamBus, StreamEvent, parse_event_id, resume_point
from providers.streams.memory import MemoryStreamBus
from providers.streams.redis import RedisStreamBus

__all__ = [
    "MemoryStreamBus",
    "RedisStreamBus",
    "StreamBus",
    "StreamEvent",
    "create_stream_bus",
    "parse_event_id",
    "resume_point",
]


def create_stream_bus(redis_url: str, prefix: str) -> StreamBus:
    if redis_url:
        return RedisStreamBus.from_url(redis_url, prefix=prefix)
    return MemoryStreamBus()
