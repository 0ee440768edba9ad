"""What must hold after any fault, for any job kind: every reservation settled or released
exactly once, used = sum of what was settled, nothing held once jobs end, every job final,
every client stream ended with ``done`` or ``error``; and for chat, the stored reply equal to
the streamed text. Plus a client that follows a job's events across API restarts."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select

from core import ledger
from core.db import Database
from core.models import ChatMessage, Job, LedgerEntry, LedgerReservation
from tests.chat.helpers import Event, Stream

FINAL_JOB_STATES = {"succeeded", "failed", "cancelled"}


@dataclass
class Followed:
    """A client's view of one job's event stream (every event it got, across reconnects)."""

    stream: Stream
    reconnects: int = 0

    @property
    def ended(self) -> bool:
        return bool(self.stream.events) and self.stream.last.type in ("done", "error")


async def follow(client: httpx.AsyncClient, url: str, *, timeout: float, on_event: object = None) -> Followed:
    """Read SSE until ``done``/``error``, reconnecting with Last-Event-ID after any cut (the API
    was killed, a proxy reset the connection), as EventSource does. Gives up after ``timeout``
    and returns what it got (the caller asserts it ended)."""
    followed = Followed(Stream())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline and not followed.ended:
        last = followed.stream.events[-1].id if followed.stream.events else None
        headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last} if last else {})}
        try:
            async with asyncio.timeout(max(0.1, deadline - loop.time())):
                async with client.stream("GET", url, headers=headers, timeout=30) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise httpx.HTTPStatusError("retry", request=response.request, response=response)
                    await _read_frames(response, followed, on_event)
        except (httpx.HTTPError, TimeoutError):
            pass
        if not followed.ended:
            followed.reconnects += 1
            await asyncio.sleep(0.5)
    return followed


async def _read_frames(response: httpx.Response, followed: Followed, on_event: object) -> None:
    import json

    frame: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "event" in frame:
                event = Event(frame.get("id", ""), frame["event"], json.loads(frame.get("data", "{}")))
                followed.stream.events.append(event)
                if callable(on_event):
                    await on_event(event)
                if event.type in ("done", "error"):
                    return
            frame = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            frame[name] = value.removeprefix(" ")


async def wait_jobs_final(db: Database, timeout: float) -> list[Job]:
    """Every job row final within ``timeout`` (the assertion names those that are not)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with db.reader() as session:
            jobs = list((await session.execute(select(Job))).scalars())
        open_jobs = [j for j in jobs if j.status not in FINAL_JOB_STATES]
        if not open_jobs:
            return jobs
        if loop.time() > deadline:
            raise AssertionError(f"jobs not final after {timeout}s: {[(j.id, j.status) for j in open_jobs]}")
        await asyncio.sleep(0.25)


async def assert_ledger_exact(db: Database, timeout: float = 30) -> None:
    """Every reservation closed exactly once; used = sum settled; nothing held (waiting up to
    ``timeout`` for the last settles: a job row is final a moment before its settle)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with db.reader() as session:
            held = await session.scalar(
                select(func.count())
                .select_from(LedgerReservation)
                .where(LedgerReservation.status == "reserved")
            )
        if not held:
            break
        await asyncio.sleep(0.25)
    async with db.reader() as session:
        reservations = list((await session.execute(select(LedgerReservation))).scalars())
        entries = (await session.execute(select(LedgerEntry.key, LedgerEntry.kind))).all()
        kinds: dict[str, Counter[str]] = {}
        for key, kind in entries:
            kinds.setdefault(key, Counter())[kind] += 1
        users = {r.user_id for r in reservations}
        used = {u: (await ledger.usage(session, u)).units["tokens"] for u in users}
    for reservation in reservations:
        counts = kinds.get(reservation.key, Counter())
        assert reservation.status in ("settled", "released"), f"still held: {reservation.key}"
        assert counts["reserve"] == 1, (reservation.key, counts)
        assert counts["settle"] + counts["release"] == 1, f"closed {counts} times: {reservation.key}"
    for user_id, tokens in used.items():
        settled = sum(r.charged for r in reservations if r.user_id == user_id and r.status == "settled")
        assert tokens.reserved == 0, f"{user_id} still holds {tokens.reserved}"
        assert tokens.used == settled, f"{user_id}: used {tokens.used} != settled {settled}"


async def stored_reply(db: Database, turn_id: str) -> str | None:
    async with db.reader() as session:
        return await session.scalar(
            select(ChatMessage.content).where(ChatMessage.turn_id == turn_id, ChatMessage.role == "assistant")
        )


async def job_of(db: Database, job_id: str) -> Job | None:
    async with db.reader() as session:
        return await session.get(Job, job_id)
