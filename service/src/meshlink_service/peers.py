"""Calls to consumed peers through one shared ``httpx.AsyncClient``.

Retry policy: only connection errors (nothing reached the peer) and only for
idempotent methods. A POST is sent exactly once, even if it never connected, so
a forwarded call can never be applied twice.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from meshlink_service.config import Peer, Settings
from meshlink_service.metrics import ServiceMetrics

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_BACKOFF_SECONDS = 0.05
MAX_ANSWER_BYTES = 1024 * 1024
REQUEST_ID_HEADER = "X-Request-ID"


@dataclass(frozen=True)
class PeerResult:
    """One call to a peer: what came back, or why nothing did."""

    peer: str
    url: str
    ok: bool
    status: int | None
    latency_ms: float
    error: str | None
    # "ok", "http_error", "timeout", "unreachable", "error": the metrics label.
    result: str
    attempts: int
    body: Any = None
    at: float = 0.0

    def report(self) -> dict[str, Any]:
        """JSON-ready summary; ``service`` is the name the peer reported, if it did."""
        body = self.body
        return {
            "peer": self.peer,
            "url": self.url,
            "ok": self.ok,
            "status": self.status,
            "result": self.result,
            "latency_ms": round(self.latency_ms, 2),
            "error": self.error,
            "attempts": self.attempts,
            "service": body.get("service") if isinstance(body, dict) else None,
        }


def build_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The process-wide client: bound to BIND_ADDRESS, no proxies from the environment."""
    if transport is None:
        # Loading the CA bundle costs 30-90 ms of every task's start. Only the peers' base
        # URLs are ever requested (/call appends a path), so with no https peer TLS is
        # never used and the bundle is skipped (verify=False builds a bare context).
        tls = any(peer.url.startswith("https://") for peer in settings.peers)
        # retries=0: httpx would retry connects for every method; the policy is ours.
        transport = httpx.AsyncHTTPTransport(
            local_address=settings.bind_address, retries=0, verify=tls
        )
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(settings.peer_timeout, connect=settings.peer_connect_timeout),
        # A proxy from HTTP_PROXY would bypass the endpoint we are supposed to prove.
        trust_env=False,
        follow_redirects=False,
        headers={"User-Agent": f"meshlink-service/{settings.service_name}"},
    )


class PeerClient:
    """Calls consumed peers and remembers each peer's last result for ``/status``."""

    def __init__(
        self, settings: Settings, client: httpx.AsyncClient, metrics: ServiceMetrics
    ) -> None:
        self._settings = settings
        self._client = client
        self._metrics = metrics
        self.last: dict[str, PeerResult] = {}

    async def check(self, peer: Peer, request_id: str) -> PeerResult:
        """GET the peer's ``/health`` within PEERS_CHECK_TIMEOUT_SECONDS."""
        return await self.request(
            peer,
            "GET",
            "/health",
            request_id=request_id,
            timeout=self._settings.peers_check_timeout,
            kind="health",
        )

    async def check_all(self, request_id: str) -> list[PeerResult]:
        """Check every consumed peer concurrently; order follows the configuration."""
        checks = [self.check(peer, request_id) for peer in self._settings.peers]
        return list(await asyncio.gather(*checks))

    async def request(
        self,
        peer: Peer,
        method: str,
        path: str,
        *,
        request_id: str,
        body: bytes | None = None,
        timeout: float | None = None,
        kind: str = "call",
    ) -> PeerResult:
        """One logical call (maybe several connect attempts) bounded by ``timeout`` in total."""
        url = peer.url + path
        budget = timeout if timeout is not None else self._settings.peer_timeout
        retries = self._settings.peer_connect_retries if method in IDEMPOTENT else 0
        headers = {REQUEST_ID_HEADER: request_id, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        attempts = 0
        status: int | None = None
        answer: Any = None
        error: str | None = None
        try:
            # httpx timeouts are per operation; this bounds the whole call, retries included.
            async with asyncio.timeout(budget):
                while True:
                    attempts += 1
                    try:
                        status, content = await self._send(method, url, body, headers)
                        break
                    except httpx.ConnectError:
                        if attempts > retries:
                            raise
                        await asyncio.sleep(RETRY_BACKOFF_SECONDS * attempts)
                answer = _decode(content)
                result = "ok" if 200 <= status < 300 else "http_error"
                error = None if result == "ok" else f"HTTP {status}"
        except (TimeoutError, httpx.TimeoutException):
            result, error = "timeout", f"no answer within {budget:g} s"
        except httpx.ConnectError as exc:
            result, error = "unreachable", _connect_error(exc)
        except httpx.HTTPError as exc:
            result, error = "error", f"{type(exc).__name__}: {exc}"
        elapsed = time.monotonic() - started
        outcome = PeerResult(
            peer=peer.name,
            url=url,
            ok=result == "ok",
            status=status,
            latency_ms=elapsed * 1000,
            error=error,
            result=result,
            attempts=attempts,
            body=answer,
            at=time.time(),
        )
        self.last[peer.name] = outcome
        self._metrics.peer_calls.inc(peer.name, kind, result)
        self._metrics.peer_latency.observe(elapsed, peer.name, kind)
        return outcome

    async def _send(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """One attempt: status and at most MAX_ANSWER_BYTES of the answer."""
        request = self._client.build_request(method, url, content=body, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            content = bytearray()
            # Streamed so that a peer answering gigabytes cannot exhaust this task's memory.
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) >= MAX_ANSWER_BYTES:
                    break
            return response.status_code, bytes(content[:MAX_ANSWER_BYTES])
        finally:
            await response.aclose()


def _decode(content: bytes) -> Any:
    """The peer's answer as JSON when it is JSON, else as (possibly truncated) text."""
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


def _connect_error(exc: httpx.ConnectError) -> str:
    """Name the root cause: anyio wraps a refusal as "All connection attempts failed"."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    return f"cannot connect: {exc or type(exc).__name__}"
