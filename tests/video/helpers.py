"""Shared steps of the video tests: the videos balance, starting a render, reading the file."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from typing import Any

import av
import httpx
from sqlalchemy import select

from core import ledger, subscriptions
from core.db import Database
from core.models import LedgerEntry
from tests.conftest import EmulatorControl


async def set_videos(db: Database, user_id: str, amount: int) -> None:
    """Support-adjust the person's ``videos`` so that exactly ``amount`` remain."""
    async with db.session() as session:
        await subscriptions.ensure_subscription(session, user_id)
        available = (await ledger.usage(session, user_id)).units["videos"].remaining
        if available != amount:
            await ledger.adjust(
                session,
                user_id=user_id,
                unit="videos",
                delta=amount - available,
                actor_id=user_id,
                reason="test: set the videos balance",
                key=f"videos-{user_id}-{amount}-{available}",
            )


async def videos_left(db: Database, user_id: str) -> int:
    async with db.session() as session:
        return int((await ledger.usage(session, user_id)).units["videos"].remaining)


async def ledger_kinds(db: Database, job_id: str) -> Counter[str]:
    """How often each ledger operation ran on the job's ``videos`` hold (reserve, settle, release)."""
    key = f"video-{job_id}:videos"
    async with db.reader() as session:
        kinds = (await session.execute(select(LedgerEntry.kind).where(LedgerEntry.key == key))).scalars()
        return Counter(kinds)


async def render_time(emulator: EmulatorControl, seconds: float, pad_mb: int = 0) -> None:
    response = await emulator.http.post(
        f"{emulator.url}/_emulator/video", json={"render_s": seconds, "pad_mb": pad_mb}
    )
    response.raise_for_status()


async def start(client: httpx.AsyncClient, **body: Any) -> str:
    response = await client.post("/v1/videos", json={"prompt": "جمل يمشي في وادي رم عند الغروب", **body})
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


async def finished(client: httpx.AsyncClient, video_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body: dict[str, Any] = (await client.get(f"/v1/videos/{video_id}")).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        assert asyncio.get_running_loop().time() < deadline, f"video still {body['status']}"
        await asyncio.sleep(0.05)


async def wait_for(check: Any, timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never met"
        await asyncio.sleep(0.05)


def parse_mp4(data: bytes) -> tuple[float, int, int]:
    """Duration (s), width, height of MP4 bytes, with every frame decoded."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert frames > 0
        return (container.duration or 0) / 1_000_000, stream.width, stream.height
