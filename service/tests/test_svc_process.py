"""``python -m meshlink_service`` as the local cloud runs it: a real process on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, dict[str, Any]]:
    with urllib.request.urlopen(url, timeout=2) as response:  # loopback only
        return response.status, json.loads(response.read())


def _wait_healthy(url: str, proc: subprocess.Popen[str], deadline_s: float = 15) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited during start"
        try:
            if _get(url)[0] == 200:
                return
        except OSError:
            time.sleep(0.02)
    pytest.fail(f"{url} never answered 200")


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The service on 127.0.0.41 (its own 'ENI'), as the local cloud would start it."""
    host = "127.0.0.41"
    port = _free_port(host)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEER_", "HOST"))}
    env.update({"SERVICE_NAME": "orders", "PORT": str(port), "BIND_ADDRESS": host})
    env.update({"PYTHONUNBUFFERED": "1", "NO_PROXY": "*"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "meshlink_service"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, f"http://{host}:{port}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_serves_on_bind_address_logs_json_and_stops_on_sigterm(
    server: tuple[subprocess.Popen[str], str],
) -> None:
    proc, base = server
    _wait_healthy(base + "/health", proc)
    assert _get(base + "/health") == (200, {"status": "healthy", "service": "orders"})
    request = urllib.request.Request(base + "/hello", headers={"X-Request-ID": "proc-1"})
    with urllib.request.urlopen(request, timeout=2) as response:
        assert response.headers["X-Request-ID"] == "proc-1"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    # uvicorn >= 0.29 re-raises the signal after a clean shutdown (exit status 143),
    # so a supervisor sees "stopped by SIGTERM"; the clean part is proven by the log.
    assert proc.returncode in (0, -signal.SIGTERM), err
    assert err == ""
    entries = [json.loads(line) for line in out.splitlines()]  # every line is JSON
    assert all(entry["service"] == "orders" for entry in entries)
    access = [e for e in entries if e["msg"] == "request"]
    hello = [e for e in access if e["path"] == "/hello"]
    assert len(hello) == 1  # one line per request, not uvicorn's access line as well
    assert hello[0]["request_id"] == "proc-1"
    assert hello[0]["status"] == 200
    assert hello[0]["client"] == "127.0.0.1"
    assert any(e["msg"] == "Application shutdown complete." for e in entries)


def test_not_listening_on_other_addresses(server: tuple[subprocess.Popen[str], str]) -> None:
    proc, base = server
    _wait_healthy(base + "/health", proc)
    other = base.replace("127.0.0.41", "127.0.0.1")
    with pytest.raises(OSError):
        _get(other + "/health")


def test_port_in_use_exits_3_with_a_json_error_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PEER_")}
        env.update({"PORT": str(busy.getsockname()[1]), "HOST": "127.0.0.1"})
        result = subprocess.run(
            [sys.executable, "-m", "meshlink_service"],
            env=env,
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert result.returncode == 3
    errors = [e for e in map(json.loads, result.stdout.splitlines()) if e["level"] == "error"]
    assert len(errors) == 1
    assert "address already in use" in errors[0]["msg"]
