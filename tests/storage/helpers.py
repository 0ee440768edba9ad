"""Uploading like the browser does: create the file, POST the form, complete, await the scan."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image

from tests.chat.helpers import Stream, read_events

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CUSTOM_MARKER = b"PULSE-TEST-MALWARE-MARKER-7f3a9c"
PE_HEADER = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + b"\x00" * 100 + b"PE\x00\x00"


def png_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Uploaded:
    file_id: str
    created: dict[str, Any]
    upload_status: int
    file: dict[str, Any]  # after the scan
    events: Stream | None = None
    completed: dict[str, Any] | None = None  # what complete answered when it refused (4xx)


async def create(
    client: httpx.AsyncClient, name: str, content_type: str, size: int, purpose: str = "chat"
) -> httpx.Response:
    return await client.post(
        "/v1/files", json={"name": name, "content_type": content_type, "size": size, "purpose": purpose}
    )


async def post_form(
    form: dict[str, Any], body: bytes, content_type: str, name: str = "upload"
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as anonymous:  # a form needs no session (S3 or ours)
        return await anonymous.post(
            form["url"], data=form["fields"], files={"file": (name, body, content_type)}
        )


async def upload(
    client: httpx.AsyncClient,
    name: str,
    body: bytes,
    content_type: str,
    *,
    purpose: str = "chat",
    sent: bytes | None = None,
    wait: bool = True,
) -> Uploaded:
    """The whole browser flow; ``sent`` uploads other bytes than declared (a lying client)."""
    response = await create(client, name, content_type, len(body), purpose)
    assert response.status_code == 201, response.text
    created = response.json()
    posted = await post_form(created["upload"], body if sent is None else sent, content_type, name)
    file_id = created["file_id"]
    completed = await client.post(f"/v1/files/{file_id}/complete")
    if completed.status_code != 202:  # refused before the scan (the object's size, checked)
        assert 400 <= completed.status_code < 500 and sent is not None, completed.text
        current = (await client.get(f"/v1/files/{file_id}")).json()
        refusal = {"status": completed.status_code, **completed.json()}
        return Uploaded(file_id, created, posted.status_code, current, None, refusal)
    events = await read_events(client, completed.json()["events_url"]) if wait else None
    current = (await client.get(f"/v1/files/{file_id}")).json()
    return Uploaded(file_id, created, posted.status_code, current, events)
