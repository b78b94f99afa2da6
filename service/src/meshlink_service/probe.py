"""``probe URL``: the one-off task ``meshlink verify`` runs from a consumer's network.

Stdlib only (``http.client``): it starts in a few tens of milliseconds, and it never
reads proxy settings from the environment, so a probe reaches the endpoint it was
given or fails. With a bind address the connection leaves from the task's own
address, which is how the local cloud applies security groups to it.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import SplitResult, urlsplit

MAX_BODY_BYTES = 64 * 1024


class ProbeOutcome(IntEnum):
    """Exit codes of ``probe``; 1 is left to Python (crash), 2 to argparse (usage)."""

    OK = 0
    USAGE = 2
    UNREACHABLE = 10
    TIMEOUT = 11
    HTTP_STATUS = 12
    WRONG_SERVICE = 13
    BAD_RESPONSE = 14


@dataclass(frozen=True)
class ProbeResult:
    """What one probe found; ``line()`` is the single line it prints."""

    outcome: ProbeOutcome
    url: str
    detail: str
    elapsed_ms: float

    def line(self) -> str:
        """One human- and grep-friendly line: ``<outcome>: <url> <detail> (<ms>)``."""
        label = self.outcome.name.lower().replace("_", "-")
        return f"{label}: {self.url} {self.detail} ({self.elapsed_ms:.0f} ms)"


def probe(
    url: str,
    *,
    expect_service: str | None = None,
    timeout: float = 5.0,
    bind_address: str | None = None,
) -> ProbeResult:
    """GET ``url`` once within ``timeout`` seconds and classify the answer."""
    started = time.monotonic()

    def done(outcome: ProbeOutcome, detail: str) -> ProbeResult:
        return ProbeResult(outcome, url, detail, (time.monotonic() - started) * 1000)

    parts = urlsplit(url)
    conn = _connection(parts, timeout, bind_address)
    if conn is None:
        return done(ProbeOutcome.USAGE, "is not an http(s) URL with a host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        status, body = _exchange(conn, path, started, timeout)
    except (OSError, http.client.HTTPException) as exc:
        return done(*_failure(exc, str(parts.hostname), timeout))
    finally:
        conn.close()
    return _classify(done, status, body, expect_service)


def _connection(
    parts: SplitResult, timeout: float, bind_address: str | None
) -> http.client.HTTPConnection | None:
    """An unopened connection to the URL's host, or None when it is not an http(s) URL."""
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    source = (bind_address, 0) if bind_address else None
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return kind(parts.hostname, port, timeout=timeout, source_address=source)


def _exchange(
    conn: http.client.HTTPConnection, path: str, started: float, timeout: float
) -> tuple[int, bytes]:
    """Send the GET and read (at most MAX_BODY_BYTES of) the answer: status and body."""
    conn.connect()
    # One deadline for the whole probe, not a fresh timeout per socket operation.
    _set_remaining(conn, started, timeout)
    conn.request(
        "GET",
        path,
        headers={
            "User-Agent": "meshlink-probe",
            "Accept": "application/json",
            "X-Request-ID": f"probe-{uuid.uuid4().hex[:16]}",
        },
    )
    _set_remaining(conn, started, timeout)
    response = conn.getresponse()
    _set_remaining(conn, started, timeout)
    return response.status, response.read(MAX_BODY_BYTES)


def _failure(
    exc: OSError | http.client.HTTPException, host: str, timeout: float
) -> tuple[ProbeOutcome, str]:
    """The outcome of a probe that got no HTTP answer (most specific error first)."""
    if isinstance(exc, TimeoutError):
        return ProbeOutcome.TIMEOUT, f"did not answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return ProbeOutcome.UNREACHABLE, "refused the connection"
    if isinstance(exc, socket.gaierror):
        return ProbeOutcome.UNREACHABLE, f"host {host!r} does not resolve ({exc.strerror})"
    if isinstance(exc, ConnectionError | http.client.RemoteDisconnected):
        return ProbeOutcome.UNREACHABLE, "closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        return ProbeOutcome.BAD_RESPONSE, f"answered something that is not HTTP ({exc!r})"
    return ProbeOutcome.UNREACHABLE, f"is unreachable ({exc.strerror or exc})"


def _set_remaining(conn: http.client.HTTPConnection, started: float, timeout: float) -> None:
    remaining = timeout - (time.monotonic() - started)
    if remaining <= 0:
        raise TimeoutError
    if conn.sock is not None:
        conn.sock.settimeout(remaining)


def _classify(
    done: Callable[[ProbeOutcome, str], ProbeResult],
    status: int,
    body: bytes,
    expect_service: str | None,
) -> ProbeResult:
    if status != 200:
        return done(ProbeOutcome.HTTP_STATUS, f"answered HTTP {status}")
    try:
        payload = json.loads(body)
    except ValueError:
        return done(ProbeOutcome.BAD_RESPONSE, "answered 200 but not with JSON")
    service = payload.get("service") if isinstance(payload, dict) else None
    if expect_service is not None:
        if service != expect_service:
            found = f"service {service!r}" if service is not None else "no service name"
            return done(
                ProbeOutcome.WRONG_SERVICE,
                f"answered 200 from {found}, expected {expect_service!r}",
            )
    elif not isinstance(payload, dict):
        return done(ProbeOutcome.BAD_RESPONSE, "answered 200 but not with a JSON object")
    who = f"service {service!r}" if service is not None else "a service with no name"
    return done(ProbeOutcome.OK, f"answered 200 from {who}")
