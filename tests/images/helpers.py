"""Shared steps of the image tests: quota, starting a job, waiting for its outcome."""

from __future__ import annotations

import asyncio
import base64
import io
from typing import Any

import httpx
from PIL import Image

from core import ledger, subscriptions
from core.db import Database


async def set_images(db: Database, user_id: str, amount: int) -> None:
    """Support-adjust the person's ``images`` so that exactly ``amount`` remain."""
    async with db.session() as session:
        await subscriptions.ensure_subscription(session, user_id)
        available = (await ledger.usage(session, user_id)).units["images"].remaining
        if available != amount:
            await ledger.adjust(
                session,
                user_id=user_id,
                unit="images",
                delta=amount - available,
                actor_id=user_id,
                reason="test: set the images balance",
                key=f"images-{user_id}-{amount}-{available}",
            )


async def images_left(db: Database, user_id: str) -> int:
    async with db.session() as session:
        return int((await ledger.usage(session, user_id)).units["images"].remaining)


async def start(client: httpx.AsyncClient, **body: Any) -> str:
    response = await client.post(
        "/v1/images", json={"model": "gpt-image-1", "prompt": "قطة في البتراء", **body}
    )
    assert response.status_code == 202, response.text
    assert response.json()["events_url"].endswith("/events")
    return str(response.json()["job_id"])


async def outcome(client: httpx.AsyncClient, job_id: str, timeout: float = 30) -> dict[str, Any]:
    """The job once it finished (polling the job API)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}")).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        assert asyncio.get_running_loop().time() < deadline, f"job still {body['status']}"
        await asyncio.sleep(0.05)


async def job_images(client: httpx.AsyncClient, job_id: str) -> list[dict[str, Any]]:
    page = (await client.get("/v1/images", params={"job_id": job_id})).json()
    return list(page["images"])


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
        return image.size


def mask_png(width: int, height: int) -> str:
    """A mask whose lower half is transparent (edit there), base64."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, height // 2, width, height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()
