"""`meshlink local start|status|logs|stop` through the real CLI; stop leaves no process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.localcloud import daemon

pytestmark = [pytest.mark.localcloud]
runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout


def _children_running_server(state_dir: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = b"meshlink.localcloud.server" in cmdline and str(state_dir).encode() in cmdline
        if ours and daemon.pid_alive(int(proc.name)):
            found.append(int(proc.name))
    return found


def test_start_status_logs_stop(tmp_path: Path) -> None:
    state = str(tmp_path)
    started = json.loads(run("--json", "local", "start", "--port", "0", "--state-dir", state))
    pid = started["pid"]
    assert started["endpoint_url"] == f"http://localhost:{started['port']}"
    assert _children_running_server(tmp_path) == [pid]

    again = json.loads(run("--json", "local", "start", "--port", "0", "--state-dir", state))
    assert again["pid"] == pid  # idempotent

    status = json.loads(run("local", "status", "--json", "--state-dir", state))
    assert status["running"] is True and status["pid"] == pid
    assert status["endpoint"] == started["endpoint_url"]
    assert status["uptime_seconds"] >= 0 and isinstance(status["resources"], dict)
    assert "running at" in run("local", "status", "--state-dir", state)
    assert "local cloud listening on" in run("local", "logs", "--state-dir", state)

    assert f"local cloud stopped (pid {pid})" in run("local", "stop", "--state-dir", state)
    assert _children_running_server(tmp_path) == []
    assert not daemon.pid_alive(pid)
    assert not (tmp_path / "localcloud.json").exists()
    assert json.loads(run("--json", "local", "status", "--state-dir", state, code=3)) == {
        "running": False,
        "state_dir": state,
    }
    assert "was not running" in run("local", "stop", "--state-dir", state)


def test_port_in_use_is_an_environment_problem(tmp_path: Path, local_cloud: object) -> None:
    port = local_cloud.port  # type: ignore[attr-defined]
    result = runner.invoke(
        app, ["local", "start", "--port", str(port), "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 3
    assert f"port {port}" in result.output and "MESHLINK_LOCAL_PORT" in result.output


def test_state_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(tmp_path))
    assert daemon.log_path() == tmp_path / "localcloud.log"
    assert json.loads(run("--json", "local", "status", code=3))["state_dir"] == str(tmp_path)
    assert os.environ["MESHLINK_STATE_DIR"] == str(tmp_path)


def test_concurrent_starts_share_one_process(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        infos = list(pool.map(lambda _: daemon.start(port=0, state_dir=tmp_path), range(3)))
    try:
        assert len({i.pid for i in infos}) == 1
        assert _children_running_server(tmp_path) == [infos[0].pid]
    finally:
        daemon.stop(tmp_path)
    assert _children_running_server(tmp_path) == []
