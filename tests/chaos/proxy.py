"""A small asyncio TCP proxy that can refuse, reset or black-hole traffic: put it between our
processes and PostgreSQL or Redis (or anything else on TCP) to cut them off on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from tests.conftest import free_port


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream``. Faults:

    - ``refuse()``: stop listening and reset every open connection (the server is down);
    - ``reset()``: reset every open connection, keep accepting (a restart or a failover);
    - ``blackhole()``: accept and read nothing, forward nothing (a partition: callers hang);
    - ``heal()``: back to forwarding (black-holed bytes then flow on, as after a partition).
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._connections: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        return self

    async def refuse(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.reset()

    def reset(self) -> None:
        for writer in list(self._connections):
            _abort(writer)
        self._connections.clear()

    def blackhole(self) -> None:
        self._flowing.clear()

    async def heal(self) -> None:
        if self._server is None:
            await self.start()
        self._flowing.set()

    async def aclose(self) -> None:
        await self.refuse()
        for task in list(self._tasks):
            task.cancel()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._connections.add(client_writer)
        try:
            await self._flowing.wait()  # a black-holed connect hangs until healed
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except (OSError, asyncio.CancelledError):
            _abort(client_writer)
            return
        self._connections.add(upstream_writer)
        pipes = [
            asyncio.create_task(self._pipe(client_reader, upstream_writer)),
            asyncio.create_task(self._pipe(upstream_reader, client_writer)),
        ]
        self._tasks.update(pipes)
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for pipe in pipes:
            pipe.cancel()
            self._tasks.discard(pipe)
        for writer in (client_writer, upstream_writer):
            self._connections.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while True:
                await self._flowing.wait()
                data = await reader.read(65536)
                if not data:
                    return
                await self._flowing.wait()  # black-holed mid-way: the bytes wait here
                writer.write(data)
                await writer.drain()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed or restarted peer does."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
