"""The peer client in isolation: retry policy and answer size (httpx.MockTransport).

The same behaviour is covered for real against a closed loopback port in
test_svc_peers.py (3 attempts for a GET, 1 for a POST); this pins the edges:
timeouts and answered requests are never retried.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from meshlink_service.config import load_settings
from meshlink_service.metrics import ServiceMetrics
from meshlink_service.peers import PeerClient, PeerResult, build_client


def _call(
    handler: httpx.MockTransport, method: str, body: bytes | None = None, retries: str = "2"
) -> PeerResult:
    settings = load_settings({"PEER_P_URL": "http://p.invalid", "PEER_CONNECT_RETRIES": retries})
    peer = settings.peers[0]

    async def run() -> PeerResult:
        async with build_client(settings, handler) as client:
            peers = PeerClient(settings, client, ServiceMetrics())
            return await peers.request(peer, method, "/x", request_id="r", body=body)

    return asyncio.run(run())


def _failing(error: type[httpx.TransportError], attempts: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        raise error("boom", request=request)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(("retries", "expected"), [("0", 1), ("2", 3), ("4", 5)])
def test_get_is_retried_on_connect_errors(retries: str, expected: int) -> None:
    attempts: list[str] = []
    result = _call(_failing(httpx.ConnectError, attempts), "GET", retries=retries)
    assert result.result == "unreachable"
    assert len(attempts) == result.attempts == expected


def test_post_is_never_retried() -> None:
    attempts: list[str] = []
    result = _call(_failing(httpx.ConnectError, attempts), "POST", body=b"{}")
    assert attempts == ["POST"]
    assert result.attempts == 1


def test_timeouts_are_not_retried() -> None:
    attempts: list[str] = []
    result = _call(_failing(httpx.ReadTimeout, attempts), "GET")
    assert attempts == ["GET"]
    assert result.result == "timeout"


def test_a_retry_that_connects_succeeds() -> None:
    attempts: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        if len(attempts) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"service": "p"})

    result = _call(httpx.MockTransport(handle), "GET")
    assert (result.ok, result.attempts, result.body) == (True, 2, {"service": "p"})


def test_http_errors_are_answers_not_retried() -> None:
    attempts: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        return httpx.Response(503, text="busy")

    result = _call(httpx.MockTransport(handle), "GET")
    assert attempts == ["GET"]
    assert (result.ok, result.status, result.body, result.error) == (False, 503, "busy", "HTTP 503")


def test_a_huge_answer_is_truncated_not_buffered_whole() -> None:
    from meshlink_service.peers import MAX_ANSWER_BYTES

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * (MAX_ANSWER_BYTES * 3))

    result = _call(httpx.MockTransport(handle), "GET")
    assert result.ok
    assert isinstance(result.body, str)
    assert len(result.body) == MAX_ANSWER_BYTES


def test_tls_is_verified_whenever_a_peer_is_https() -> None:
    import ssl

    def verify_mode(env: dict[str, str]) -> ssl.VerifyMode:
        client = build_client(load_settings(env))
        # httpx keeps the context on the connection pool of its transport.
        context = client._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert isinstance(context, ssl.SSLContext)
        return context.verify_mode

    assert verify_mode({"PEER_A_URL": "https://a.internal"}) == ssl.CERT_REQUIRED
    https_and_http = {"PEER_A_URL": "http://a.internal", "PEER_B_URL": "https://b.internal"}
    assert verify_mode(https_and_http) == ssl.CERT_REQUIRED
    # http-only peers: no CA bundle is loaded (start time); no https URL can be built.
    assert verify_mode({"PEER_A_URL": "http://a.internal"}) == ssl.CERT_NONE
