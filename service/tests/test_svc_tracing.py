"""``tracing: xray``: the service sends a segment per request and traces its peer calls.

The service runs as a real process, as the local cloud runs it; a UDP socket of the test
plays the X-Ray daemon sidecar, and a loopback peer records the trace header it got.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from meshlink_service.testing import LoopbackServer

HOST = "127.0.0.42"


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _peer(seen: list[dict[str, str]]) -> Starlette:
    async def echo(request: Request) -> Response:
        seen.append(dict(request.headers))
        return JSONResponse({"service": "billing"})

    return Starlette(routes=[Route("/echo", echo, methods=["GET", "POST"])])


# An upstream that sampled the request (the sampler's reservoir takes one a second).
SAMPLED = "Root=1-67891233-abcdef012345678912345678;Sampled=1"


def _request(url: str, method: str = "GET") -> int:
    request = urllib.request.Request(
        url,
        method=method,
        data=b"" if method == "POST" else None,
        headers={"X-Amzn-Trace-Id": SAMPLED},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # loopback only
        status: int = response.status
        return status


def _segments(daemon: socket.socket, wanted: int, within: float = 10) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while len(found) < wanted and time.monotonic() < deadline:
        daemon.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = daemon.recv(65535)
        except TimeoutError:
            break
        header, _, body = data.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        found.append(json.loads(body))
    return found


@pytest.fixture
def traced() -> Iterator[tuple[str, socket.socket, list[dict[str, str]]]]:
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    seen: list[dict[str, str]] = []
    peer = LoopbackServer(_peer(seen)).start()
    port = _free_port(HOST)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEER_", "HOST", "AWS_"))}
    env.update(
        {
            "SERVICE_NAME": "orders",
            "PORT": str(port),
            "BIND_ADDRESS": HOST,
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "*",
            "MESHLINK_TRACING": "xray",
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
            "PEER_BILLING_URL": peer.url,
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "meshlink_service"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, "the service exited while starting"
            try:
                _request(f"{url}/hello")
                break
            except OSError:
                assert time.monotonic() < deadline, "the service never answered"
                time.sleep(0.05)
        _segments(daemon, wanted=1, within=2)  # the start-up probe's own segment
        yield url, daemon, seen
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        peer.stop()
        daemon.close()


def test_a_request_is_one_segment_named_after_the_service(
    traced: tuple[str, socket.socket, list[dict[str, str]]],
) -> None:
    url, daemon, _ = traced
    assert _request(f"{url}/hello") == 200
    (segment,) = _segments(daemon, wanted=1)
    assert segment["name"] == "orders"
    assert segment["http"]["request"] == {"method": "GET", "url": "/hello"}
    assert segment["http"]["response"]["status"] == 200
    assert segment["trace_id"] == "1-67891233-abcdef012345678912345678"  # the caller's


def test_a_peer_call_is_a_subsegment_and_carries_the_trace_on(
    traced: tuple[str, socket.socket, list[dict[str, str]]],
) -> None:
    url, daemon, seen = traced
    assert _request(f"{url}/call/billing?path=/echo", method="POST") == 200
    (segment,) = _segments(daemon, wanted=1)
    (call,) = segment["subsegments"]
    assert call["namespace"] == "remote"
    assert call["http"]["response"]["status"] == 200
    (headers,) = seen
    header = headers["x-amzn-trace-id"]
    assert f"Root={segment['trace_id']}" in header
    assert f"Parent={call['id']}" in header
