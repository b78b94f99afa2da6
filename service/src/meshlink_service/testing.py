"""Real HTTP servers on loopback, for tests of the service and of what calls it.

Imported only by tests (it pulls in uvicorn and starlette); nothing in the
service imports it.

``LoopbackServer`` runs any ASGI app under uvicorn in a thread, on a socket bound
before the thread starts, so there is no race for a free port. ``scripted_peer``
is a peer that misbehaves on demand: slow, failing, or not speaking JSON.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

# The ``make_client`` fixture: service environment -> started test client.
MakeClient = Callable[[dict[str, str]], TestClient]


class LoopbackServer:
    """An ASGI app served by uvicorn on ``host`` in a daemon thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            loop="asyncio",
            http="h11",
            lifespan="on",
            # Slow handlers are abandoned at stop instead of holding up the test run.
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, no trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> LoopbackServer:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"loopback server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class PeerScript:
    """How a scripted peer answers ``/health``; also records who called."""

    name: str = "scripted"
    health_status: int = 200
    delay: float = 0.0
    json_body: bool = True
    seen: list[dict[str, Any]] = field(default_factory=list)


def scripted_peer(script: PeerScript) -> Starlette:
    """A peer whose ``/health`` follows ``script``; ``/echo`` returns the request it got."""

    async def health(request: Request) -> Response:
        script.seen.append(_describe(request, b""))
        if script.delay:
            await asyncio.sleep(script.delay)
        if not script.json_body:
            return PlainTextResponse("OK", status_code=script.health_status)
        body = {"status": "healthy", "service": script.name}
        return JSONResponse(body, status_code=script.health_status)

    async def echo(request: Request) -> Response:
        seen = _describe(request, await request.body())
        script.seen.append(seen)
        return JSONResponse({"service": script.name, "echo": seen})

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/echo", echo, methods=["GET", "POST"]),
        ]
    )


def _describe(request: Request, body: bytes) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.url.path,
        "client": request.client.host if request.client else None,
        "request_id": request.headers.get("x-request-id"),
        "body": body.decode(),
    }


class ClosedPort:
    """A loopback port that is bound but not listening: connecting is refused, race-free."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Release the port."""
        self._sock.close()
