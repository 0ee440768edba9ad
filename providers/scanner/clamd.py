"""A clamd client: ``PING`` and ``INSTREAM`` (the stream sent in length-prefixed chunks).

Hand-written because the protocol is a few lines and the Python clients on PyPI (``clamd``,
``pyclamd``) are unmaintained and blocking. Over a unix socket (``clamd_socket``) or TCP
(``clamd_address``). A stream above ``clamd_max_bytes`` (clamd's ``StreamMaxLength``) is
refused before it is sent: never passed unscanned."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core.settings import Settings

REPLY_LIMIT = 4096


class ScannerUnavailable(Exception):
    """clamd does not answer (not running, socket missing, timed out)."""


class ScanLimitExceeded(Exception):
    """The stream is bigger than the scanner takes: the file cannot be scanned."""


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str | None = None  # e.g. "Pulse.Test.EICAR" when infected
    scanned_bytes: int = 0


class ClamdScanner:
    def __init__(self, settings: Settings) -> None:
        self.socket_path = settings.clamd_socket_path
        self.address = settings.clamd_address
        self.timeout = settings.clamd_timeout_seconds
        self.max_bytes = settings.clamd_max_bytes

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            if self.address:
                host, _, port = self.address.rpartition(":")
                return await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5)
            return await asyncio.wait_for(asyncio.open_unix_connection(self.socket_path), 5)
        except (OSError, TimeoutError) as error:
            raise ScannerUnavailable(f"clamd unreachable: {error}") from None

    async def ping(self, timeout: float = 2.0) -> None:
        """Raise ScannerUnavailable unless clamd answers PONG."""
        reader, writer = await self._connect()
        try:
            writer.write(b"zPING\0")
            await writer.drain()
            reply = await asyncio.wait_for(reader.readuntil(b"\0"), timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            raise ScannerUnavailable(f"clamd did not answer: {error}") from None
        finally:
            writer.close()
        if reply.rstrip(b"\0") != b"PONG":
            raise ScannerUnavailable(f"unexpected reply {reply!r}")

    async def scan(self, chunks: AsyncIterator[bytes]) -> ScanResult:
        """Stream the bytes to clamd; OK → clean, ``<name> FOUND`` → infected.

        The reply is read while the stream is sent: clamd answers early only to refuse (its
        ``StreamMaxLength`` is lower than ours) and then closes the socket, so the write that
        follows fails; that refusal is the verdict, not an unavailable scanner."""
        reader, writer = await self._connect()
        replying = asyncio.ensure_future(reader.readuntil(b"\0"))
        sent = 0
        try:
            writer.write(b"zINSTREAM\0")
            async for chunk in chunks:
                sent += len(chunk)
                if sent > self.max_bytes:
                    raise ScanLimitExceeded(f"more than {self.max_bytes} bytes")
                if replying.done():
                    break  # clamd has answered before the end of the stream: a refusal
                writer.write(struct.pack("!L", len(chunk)) + chunk)
                await asyncio.wait_for(writer.drain(), self.timeout)
            else:
                writer.write(struct.pack("!L", 0))
                await writer.drain()
            reply = await asyncio.wait_for(replying, self.timeout)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError) as error:
            early = await _early_reply(replying) if isinstance(error, ConnectionError) else None
            if early is None:
                raise ScannerUnavailable(f"clamd scan interrupted: {error}") from None
            reply = early
        finally:
            replying.cancel()
            writer.close()
        return parse_reply(reply[:REPLY_LIMIT].rstrip(b"\0").decode(errors="replace"), sent)


async def _early_reply(replying: asyncio.Future[bytes], wait_s: float = 1.0) -> bytes | None:
    """What clamd said before it closed the connection (a refusal), if it said anything."""
    await asyncio.wait({replying}, timeout=wait_s)
    if not replying.done() or replying.cancelled() or replying.exception() is not None:
        return None
    return replying.result()


def parse_reply(text: str, sent: int) -> ScanResult:
    body = text.removeprefix("stream: ").strip()
    if body == "OK":
        return ScanResult(True, None, sent)
    if body.endswith(" FOUND"):
        return ScanResult(False, body.removesuffix(" FOUND"), sent)
    if "size limit exceeded" in body:
        raise ScanLimitExceeded(body)
    raise ScannerUnavailable(f"clamd error: {body}")
