"""Byte pipes between two TCP transports (asyncio protocols: far cheaper than streams).

An inbound connection is paused until the routing decision is made; then an
upstream connection is opened and bytes flow both ways with back-pressure and
half-close, so HTTP keep-alive and streaming bodies behave as on a real NLB.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable

Router = Callable[["Inbound"], Awaitable[None]]


def reset(transport: asyncio.BaseTransport) -> None:
    """Close with a TCP RST: to the client this looks like a refused/dropped connection."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    else:
        transport.close()


class _Side(asyncio.Protocol):
    """One end of a pipe; forwards what it receives to its peer's transport."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self.pending: list[bytes] = []
        self.eof = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=256 * 1024)

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is None or peer.transport is None:
            self.pending.append(data)
            return
        peer.transport.write(data)

    def eof_received(self) -> bool:
        self.eof = True
        peer = self.peer
        if peer is not None and peer.transport is not None and peer.transport.can_write_eof():
            peer.transport.write_eof()
        # Keep our side open: the peer may still answer after we stopped sending.
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        peer = self.peer
        if peer is not None and peer.transport is not None and not peer.closed:
            peer.transport.close()

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class Inbound(_Side):
    """An accepted connection on a listener; `route` decides where it goes."""

    def __init__(self, listen: tuple[str, int], route: Router, on_error: Callable[[str], None]):
        super().__init__()
        self.listen = listen
        self._route = route
        self._on_error = on_error

    @property
    def source(self) -> str:
        assert self.transport is not None
        peer = self.transport.get_extra_info("peername")
        return str(peer[0]) if peer else ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        self.transport.pause_reading()
        asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            await self._route(self)
        except Exception as error:  # a routing bug must not kill the listener
            self._on_error(f"routing {self.listen}: {error!r}")
            if self.transport is not None and not self.closed:
                reset(self.transport)

    def refuse(self) -> None:
        if self.transport is not None and not self.closed:
            reset(self.transport)

    async def connect(self, host: str, port: int, *, timeout: float = 2.0) -> bool:
        """Open the upstream side to host:port and start piping; False if that fails."""
        loop = asyncio.get_running_loop()
        outbound = _Side()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: outbound, host, port),
                timeout,
            )
        except (OSError, TimeoutError):
            return False
        if self.closed:
            assert outbound.transport is not None
            outbound.transport.close()
            return True
        outbound.peer, self.peer = self, outbound
        assert self.transport is not None and outbound.transport is not None
        for chunk in self.pending:
            outbound.transport.write(chunk)
        self.pending.clear()
        # Server-speaks-first protocols: what upstream sent before the pipe was joined.
        for chunk in outbound.pending:
            self.transport.write(chunk)
        outbound.pending.clear()
        if outbound.eof and self.transport.can_write_eof():
            self.transport.write_eof()
        if self.eof and outbound.transport.can_write_eof():
            outbound.transport.write_eof()
        self.transport.resume_reading()
        return True
