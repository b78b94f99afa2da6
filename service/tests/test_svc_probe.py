"""``python -m meshlink_service probe``: one real server per exit path, run as a process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from meshlink_service.app import create_app
from meshlink_service.config import load_settings
from meshlink_service.probe import ProbeOutcome
from meshlink_service.testing import ClosedPort, LoopbackServer, PeerScript, scripted_peer


@pytest.fixture(scope="module")
def real_service() -> Iterator[LoopbackServer]:
    """The actual service, named 'notification-service'."""
    app = create_app(load_settings({"SERVICE_NAME": "notification-service"}))
    with LoopbackServer(app) as server:
        yield server


def _probe(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if k != "BIND_ADDRESS"}
    result = subprocess.run(
        [sys.executable, "-m", "meshlink_service", "probe", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=20,
    )
    if result.returncode != ProbeOutcome.USAGE:
        # The contract: exactly one line saying what happened, on stdout.
        assert result.stderr == ""
        assert len(result.stdout.splitlines()) == 1, result.stdout
    return result.returncode, result.stdout.strip()


def test_exit_codes_are_the_documented_ones() -> None:
    # meshlink verify and the README depend on these numbers.
    assert {outcome.name: int(outcome) for outcome in ProbeOutcome} == {
        "OK": 0,
        "USAGE": 2,
        "UNREACHABLE": 10,
        "TIMEOUT": 11,
        "HTTP_STATUS": 12,
        "WRONG_SERVICE": 13,
        "BAD_RESPONSE": 14,
    }


def test_ok_with_expected_service(real_service: LoopbackServer) -> None:
    url = real_service.url + "/health"
    code, line = _probe(url, "--expect-service", "notification-service", "--timeout", "5")
    assert code == ProbeOutcome.OK
    assert re.fullmatch(
        rf"ok: {re.escape(url)} answered 200 from service 'notification-service' \(\d+ ms\)", line
    )


def test_ok_without_expectation(real_service: LoopbackServer) -> None:
    assert _probe(real_service.url + "/health")[0] == 0


def test_wrong_service(real_service: LoopbackServer) -> None:
    code, line = _probe(real_service.url + "/health", "--expect-service", "user-service")
    assert code == ProbeOutcome.WRONG_SERVICE
    assert "from service 'notification-service', expected 'user-service'" in line
    assert line.startswith("wrong-service: ")


def test_the_name_is_read_from_any_json_route(real_service: LoopbackServer) -> None:
    ready = _probe(real_service.url + "/ready", "--expect-service", "notification-service")
    assert ready[0] == ProbeOutcome.OK
    assert _probe(real_service.url + "/status", "--expect-service", "x")[0] == 13


def test_non_200(failing_peer: LoopbackServer) -> None:
    code, line = _probe(failing_peer.url + "/health", "--expect-service", "broken")
    assert code == ProbeOutcome.HTTP_STATUS
    assert line.startswith("http-status: ") and "answered HTTP 500" in line


def test_not_found_is_non_200(real_service: LoopbackServer) -> None:
    assert _probe(real_service.url + "/nope")[0] == ProbeOutcome.HTTP_STATUS


def test_timeout(slow_peer: LoopbackServer) -> None:
    started = time.monotonic()
    code, line = _probe(slow_peer.url + "/health", "--timeout", "0.5")
    assert code == ProbeOutcome.TIMEOUT
    assert line.startswith("timeout: ") and "did not answer within 0.5 s" in line
    assert time.monotonic() - started < 2.5


def test_connection_refused(down_peer: ClosedPort) -> None:
    code, line = _probe(down_peer.url + "/health", "--expect-service", "x")
    assert code == ProbeOutcome.UNREACHABLE
    assert line.startswith("unreachable: ") and "refused the connection" in line


def test_unroutable_source_address_is_unreachable(real_service: LoopbackServer) -> None:
    # 192.0.2.1 (TEST-NET-1) is not on this machine: the bind fails, nothing is sent.
    code, line = _probe(real_service.url + "/health", "--bind-address", "192.0.2.1")
    assert code == ProbeOutcome.UNREACHABLE
    assert line.startswith("unreachable: ")


def test_not_json() -> None:
    with LoopbackServer(scripted_peer(PeerScript(name="text", json_body=False))) as server:
        code, line = _probe(server.url + "/health")
    assert code == ProbeOutcome.BAD_RESPONSE
    assert "answered 200 but not with JSON" in line


@pytest.mark.parametrize("url", ["not-a-url", "ftp://host/x", "http:///path", "http://h:99999/"])
def test_bad_url_is_usage_error(url: str) -> None:
    code, line = _probe(url)
    assert code == ProbeOutcome.USAGE
    assert line.startswith("usage: ")


def test_missing_url_is_argparse_usage_error() -> None:
    assert _probe()[0] == 2


def test_source_address_from_bind_address_env() -> None:
    script = PeerScript(name="whoami")
    with LoopbackServer(scripted_peer(script)) as server:
        assert _probe(server.url + "/health", env={"BIND_ADDRESS": "127.0.0.31"})[0] == 0
        assert _probe(server.url + "/health", "--bind-address", "127.0.0.32")[0] == 0
    assert [seen["client"] for seen in script.seen] == ["127.0.0.31", "127.0.0.32"]
    assert all(str(seen["request_id"]).startswith("probe-") for seen in script.seen)
