"""The FastAPI application: routes of the blog post's service plus mesh introspection."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from meshlink_service import __version__, tracing
from meshlink_service.config import Settings
from meshlink_service.metrics import CONTENT_TYPE, ServiceMetrics
from meshlink_service.observability import RequestMiddleware
from meshlink_service.peers import PeerClient, PeerResult, build_client

DEFAULT_CALL_PATH = "/hello"
# A forwarded body is held in memory twice (ours and httpx's); keep it bounded.
MAX_CALL_BODY_BYTES = 1024 * 1024


@dataclass
class Runtime:
    """Per-app mutable state: set up by the lifespan, read by the routes."""

    settings: Settings
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)
    started_at: float = field(default_factory=time.time)
    peers: PeerClient | None = None
    # Latched: once every peer has answered, readiness no longer depends on them,
    # so a flapping dependency cannot take this service out of its load balancer.
    peers_seen_ready: bool = False

    def client(self) -> PeerClient:
        """The peer client; 503 before the lifespan has started it."""
        if self.peers is None:
            raise HTTPException(status_code=503, detail="service is starting")
        return self.peers

    def is_ready(self) -> bool:
        """Started, and (when READY_REQUIRES_PEERS) every peer has answered once."""
        if self.peers is None:
            return False
        return self.peers_seen_ready or not self.settings.ready_requires_peers


def create_app(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Build the app for ``settings``; ``transport`` replaces the network in unit tests."""
    runtime = Runtime(settings)
    app = FastAPI(
        title=f"meshlink-service ({settings.service_name})",
        version=__version__,
        lifespan=_lifespan(runtime, transport),
        # Not part of the service's contract; also saves building the schema.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    if tracing.enabled():
        app.add_middleware(tracing.TracingMiddleware, service=settings.service_name)
    app.add_middleware(RequestMiddleware, metrics=runtime.metrics)
    _add_greeting_routes(app, settings.service_name)
    _add_state_routes(app, runtime)
    _add_peer_routes(app, runtime)
    return app


def _lifespan(
    runtime: Runtime, transport: httpx.AsyncBaseTransport | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the peer client for the app's lifetime."""
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if tracing.enabled():  # on the server's loop, before the peer client exists
            tracing.configure(settings.service_name)
        async with build_client(settings, transport) as client:
            runtime.peers = PeerClient(settings, client, runtime.metrics)
            try:
                yield
            finally:
                runtime.peers = None

    return lifespan


def _add_greeting_routes(app: FastAPI, name: str) -> None:
    """The blog post's routes and liveness."""

    @app.get("/")
    async def root() -> dict[str, str]:
        """The blog post's welcome message."""
        return {"message": "Welcome to the ECS Python microservice!", "service": name}

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        """The blog post's connectivity check."""
        return {"message": "Hello from ECS Python microservice!", "service": name}

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Liveness, and the name ``probe --expect-service`` compares."""
        return {"status": "healthy", "service": name}


def _add_state_routes(app: FastAPI, runtime: Runtime) -> None:
    """Readiness, status and metrics."""
    settings = runtime.settings
    name = settings.service_name

    @app.get("/ready")
    async def ready(request: Request) -> JSONResponse:
        """200 once started (and, with READY_REQUIRES_PEERS, once every peer answered)."""
        body: dict[str, Any] = {"ready": False, "service": name}
        if runtime.peers is None:
            return JSONResponse({**body, "reason": "starting"}, status_code=503)
        if runtime.settings.ready_requires_peers and not runtime.peers_seen_ready:
            results = await runtime.peers.check_all(request.state.request_id)
            if not all(result.ok for result in results):
                reports = [result.report() for result in results]
                return JSONResponse(
                    {**body, "reason": "waiting for peers", "peers": reports}, status_code=503
                )
            runtime.peers_seen_ready = True
        return JSONResponse({**body, "ready": True})

    @app.get("/status")
    async def status() -> dict[str, Any]:
        """Name, version, uptime, and each peer's last result."""
        last = runtime.peers.last if runtime.peers is not None else {}
        return {
            "service": name,
            "version": __version__,
            "uptime_seconds": round(time.time() - runtime.started_at, 3),
            "ready": runtime.is_ready(),
            "bind_address": settings.bind_address,
            "peers": [
                {
                    "name": peer.name,
                    "url": peer.url,
                    "last": _last(last.get(peer.name)),
                }
                for peer in settings.peers
            ],
        }

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        """Prometheus text exposition."""
        text = runtime.metrics.render(
            service=name,
            version=__version__,
            uptime=time.time() - runtime.started_at,
            ready=runtime.is_ready(),
        )
        return PlainTextResponse(text, media_type=CONTENT_TYPE)


def _add_peer_routes(app: FastAPI, runtime: Runtime) -> None:
    """Checking and calling the consumed peers."""
    settings = runtime.settings
    name = settings.service_name

    @app.get("/peers")
    async def peers(request: Request) -> dict[str, Any]:
        """Check every consumed peer's /health concurrently and report each."""
        results = await runtime.client().check_all(request.state.request_id)
        return {
            "service": name,
            "all_ok": all(result.ok for result in results),
            "peers": [result.report() for result in results],
        }

    @app.post("/call/{peer}")
    async def call(peer: str, request: Request, path: str = DEFAULT_CALL_PATH) -> JSONResponse:
        """Forward the JSON body (POST; GET without a body) to ``path`` on a consumed peer."""
        target = settings.peer(peer)
        if target is None:
            consumed = ", ".join(p.name for p in settings.peers) or "none"
            raise HTTPException(
                status_code=404,
                detail=f"{name} does not consume {peer!r} (consumed peers: {consumed})",
            )
        _check_path(path)
        raw = await _json_body(request)
        result = await runtime.client().request(
            target,
            "POST" if raw else "GET",
            path,
            request_id=request.state.request_id,
            body=raw or None,
        )
        return JSONResponse(_call_answer(result), status_code=_call_status(result))


async def _json_body(request: Request) -> bytes:
    """The request body, checked to be JSON (or empty) and at most 1 MiB."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_CALL_BODY_BYTES:
        raise HTTPException(status_code=413, detail="body is larger than 1 MiB")
    raw = await request.body()
    if len(raw) > MAX_CALL_BODY_BYTES:
        raise HTTPException(status_code=413, detail="body is larger than 1 MiB")
    if raw:
        try:
            json.loads(raw)
        except ValueError:
            raise HTTPException(status_code=400, detail="body is not JSON") from None
    return raw


def _check_path(path: str) -> None:
    # The path is appended to the peer's base URL: it must not be able to change the host.
    if not path.startswith("/") or path.startswith("//") or any(c.isspace() for c in path):
        raise HTTPException(status_code=400, detail=f"path {path!r} must be an absolute path")
    if "#" in path or "\\" in path:
        raise HTTPException(status_code=400, detail=f"path {path!r} is not a plain path")


def _last(result: PeerResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {**result.report(), "at": result.at}


def _call_answer(result: PeerResult) -> dict[str, Any]:
    return {**result.report(), "response": result.body}


def _call_status(result: PeerResult) -> int:
    """200 when the peer answered 2xx; 504 on timeout; 502 for any other failure."""
    if result.ok:
        return 200
    if result.result == "timeout":
        return 504
    return 502
