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
from urllib.parse import urlsplit

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
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        return done(ProbeOutcome.USAGE, "is not an http(s) URL with a host")
    host = parts.hostname
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    source = (bind_address, 0) if bind_address else None
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, source_address=source)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=source)
    try:
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
        body = response.read(MAX_BODY_BYTES)
    except TimeoutError:
        return done(ProbeOutcome.TIMEOUT, f"did not answer within {timeout:g} s")
    except ConnectionRefusedError:
        return done(ProbeOutcome.UNREACHABLE, "refused the connection")
    except socket.gaierror as exc:
        return done(ProbeOutcome.UNREACHABLE, f"host {host!r} does not resolve ({exc.strerror})")
    except (ConnectionError, http.client.RemoteDisconnected):
        return done(ProbeOutcome.UNREACHABLE, "closed the connection without answering")
    except http.client.HTTPException as exc:
        return done(ProbeOutcome.BAD_RESPONSE, f"answered something that is not HTTP ({exc!r})")
    except OSError as exc:
        return done(ProbeOutcome.UNREACHABLE, f"is unreachable ({exc.strerror or exc})")
    finally:
        conn.close()
    return _classify(done, response.status, body, expect_service)


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
