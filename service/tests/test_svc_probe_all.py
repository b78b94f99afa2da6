"""``python -m meshlink_service probe-all``: every target at once, a JSON line each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from meshlink_service.app import create_app
from meshlink_service.config import load_settings
from meshlink_service.probe_all import parse_target
from meshlink_service.testing import ClosedPort, LoopbackServer, PeerScript, scripted_peer


@pytest.fixture(scope="module")
def billing() -> Iterator[LoopbackServer]:
    app = create_app(load_settings({"SERVICE_NAME": "billing"}))
    with LoopbackServer(app) as server:
        yield server


def _hostport(server: LoopbackServer | ClosedPort) -> str:
    parts = urlsplit(server.url)
    return f"{parts.hostname}:{parts.port}"


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[dict[str, object]], str]:
    clean = {k: v for k, v in os.environ.items() if k != "BIND_ADDRESS"}
    result = subprocess.run(
        [sys.executable, "-m", "meshlink_service", "probe-all", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=20,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return result.returncode, lines, result.stderr


def test_one_line_per_target_in_order_then_done(
    billing: LoopbackServer, down_peer: ClosedPort, failing_peer: LoopbackServer
) -> None:
    code, lines, stderr = _run(
        f"billing={_hostport(billing)}",
        f"ledger={_hostport(billing)}",  # answers, but as billing
        f"orders={_hostport(down_peer)}",
        f"broken={_hostport(failing_peer)}",
    )
    assert code == 0 and stderr == ""
    assert lines[-1] == {"done": 4}
    found = {str(line["target"]): (line["outcome"], line["code"]) for line in lines[:-1]}
    assert [line["target"] for line in lines[:-1]] == ["billing", "ledger", "orders", "broken"]
    assert found == {
        "billing": ("ok", 0),
        "ledger": ("wrong-service", 13),
        "orders": ("unreachable", 10),
        "broken": ("http-status", 12),
    }
    assert lines[0]["url"] == f"http://{_hostport(billing)}/health"


def test_targets_run_concurrently(slow_peer: LoopbackServer) -> None:
    started = time.monotonic()
    targets = [f"slow{i}={_hostport(slow_peer)}" for i in range(6)]
    code, lines, _ = _run(*targets, "--timeout", "0.5")
    assert code == 0
    assert {line.get("outcome") for line in lines[:-1]} == {"timeout"}
    # Six 0.5 s timeouts one after the other would take 3 s.
    assert time.monotonic() - started < 2.5


def test_source_address_from_bind_address_env() -> None:
    script = PeerScript(name="whoami")
    with LoopbackServer(scripted_peer(script)) as server:
        code, lines, _ = _run(f"whoami={_hostport(server)}", env={"BIND_ADDRESS": "127.0.0.33"})
    assert code == 0 and lines[0]["code"] == 0
    assert [seen["client"] for seen in script.seen] == ["127.0.0.33"]


def test_no_targets_is_an_empty_complete_list() -> None:
    assert _run() == (0, [{"done": 0}], "")


@pytest.mark.parametrize(
    "raw", ["billing", "billing=host", "=host:80", "billing=host:0", "b=http://h:80/", "b=h:99999"]
)
def test_malformed_target_is_usage(raw: str) -> None:
    code, lines, stderr = _run(raw)
    assert code == 2 and lines == []
    assert "NAME=HOST:PORT" in stderr
    with pytest.raises(ValueError):
        parse_target(raw)


def test_path_must_be_absolute() -> None:
    code, _, stderr = _run("--path", "health", "b=h:80")
    assert code == 2 and "must start with /" in stderr
