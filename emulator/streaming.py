"""Server-sent event responses that count how each stream ended.

``EventStream`` pumps an async iterator of bytes to the client while watching the ASGI
``receive`` channel for ``http.disconnect``. Whichever happens first decides the outcome: the
body ran to its end (``completed``, unless a fault cut it short) or the client went away
(``disconnects``). Each stream is counted exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from emulator.state import EmulatorState, Fault

CUT_SHORT = {"stream_error", "truncate"}


def sse(data: str, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()


async def paced(state: EmulatorState, chunks: list[str], fault: Fault | None) -> AsyncIterator[str]:
    """The reply's chunks at the configured pace, stopping where a stream fault says."""
    await state.first_token(fault)
    stop_at = fault.after_tokens if fault is not None and fault.kind in {"hang", *CUT_SHORT} else None
    for index, chunk in enumerate(chunks):
        if stop_at is not None and index >= stop_at:
            break
        if index:
            await state.between_tokens(fault)
        yield chunk
    if fault is not None and fault.kind == "hang":
        await asyncio.Event().wait()  # send nothing more until the client goes away


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        body: AsyncIterator[bytes],
        *,
        state: EmulatorState,
        provider: str,
        fault: Fault | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(content=None, status_code=200, headers=headers, media_type=self.media_type)
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.raw_headers.append((b"cache-control", b"no-cache"))
        self.body_iterator = body
        self.state = state
        self.provider = provider
        self.fault = fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        counts = self.state.counts(self.provider)
        counts.active += 1
        pump = asyncio.create_task(self._pump(send))
        watch = asyncio.create_task(_wait_for_disconnect(receive))
        try:
            done, _ = await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
            finished = pump in done and pump.exception() is None
            if finished:
                if self.fault is None or self.fault.kind not in CUT_SHORT:
                    counts.completed += 1
            else:
                counts.disconnects += 1
        finally:
            counts.active -= 1
            for task in (pump, watch):
                task.cancel()
            for task in (pump, watch):
                with contextlib.suppress(BaseException):
                    await task
            with contextlib.suppress(BaseException):
                await self.body_iterator.aclose()  # type: ignore[attr-defined]

    async def _pump(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for chunk in self.body_iterator:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def hold(fault: Fault | None) -> bool:
    """Non-streaming calls: wait as a stream fault says; True when the call should then fail."""
    if fault is None:
        return False
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_s)
    if fault.kind == "hang":
        await asyncio.sleep(3600)
    return fault.kind in CUT_SHORT
