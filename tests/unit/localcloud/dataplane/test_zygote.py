"""Bundled-service tasks forked from the zygote behave as the processes they replace."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshlink.localcloud.dataplane.command import service_pythonpath
from meshlink.localcloud.dataplane.forked import ForkedProcess
from meshlink.localcloud.dataplane.processes import MARKER, Supervisor, TaskProcess

BUNDLED = [sys.executable, "-m", "meshlink_service"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def task_env(port: int, **extra: str) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "SERVICE_NAME": "orders", "PORT": str(port)}
    env.update(HOST="127.0.0.1", BIND_ADDRESS="127.0.0.1", PYTHONUNBUFFERED="1")
    path = os.pathsep.join(p for p in (service_pythonpath(), os.environ.get("PYTHONPATH")) if p)
    if path:
        env["PYTHONPATH"] = path
    env[MARKER] = "marker-of-this-test"
    return {**env, **extra}


def health(port: int, deadline: float = 20.0) -> dict[str, object]:
    end = time.monotonic() + deadline
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", "/health")
            return dict(json.loads(conn.getresponse().read()))
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)
        finally:
            conn.close()


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    supervisor = Supervisor(marker="marker-of-this-test")
    assert supervisor.zygote is not None
    supervisor.prepare()
    assert supervisor.zygote.wait_until_ready(30)
    yield supervisor
    supervisor.stop_all(grace=5)


def spawn(supervisor: Supervisor, tmp_path: Path, name: str, env: dict[str, str]) -> TaskProcess:
    return supervisor.spawn(
        f"arn:task/{name}", [*BUNDLED], env, tmp_path / f"{name}.log", tmp_path / name
    )


def test_a_forked_task_serves_as_its_own_process_would(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    port = free_port()
    task = spawn(supervisor, tmp_path, "orders", task_env(port, GREETING="hi"))
    assert isinstance(task.popen, ForkedProcess)
    assert health(port)["service"] == "orders"
    # Its own session, its working directory, and the marker the leftover killer reads.
    assert os.getpgid(task.pid) == task.pid
    assert Path(f"/proc/{task.pid}/cwd").resolve() == (tmp_path / "orders").resolve()
    assert b"MESHLINK_LOCAL_TASK_OF=marker-of-this-test" in Path(
        f"/proc/{task.pid}/environ"
    ).read_bytes().split(b"\0")
    supervisor.stop([task.task_arn], grace=5)
    # uvicorn shuts down gracefully, then re-raises the signal: -15, as with Popen.
    assert task.poll() == -signal.SIGTERM
    log = (tmp_path / "orders.log").read_text()
    assert "start [" in log and '"starting"' in log  # the header, then the service's own line
    assert "Finished server process" in log


def test_exit_codes_arrive_as_subprocess_reports_them(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    bad = spawn(supervisor, tmp_path, "bad", task_env(free_port(), PORT="not-a-port"))
    assert isinstance(bad.popen, ForkedProcess)
    assert bad.popen.wait(timeout=10) == 2  # meshlink_service's invalid-configuration exit
    assert "invalid configuration" in (tmp_path / "bad.log").read_text()
    port = free_port()
    killed = spawn(supervisor, tmp_path, "killed", task_env(port))
    health(port)
    supervisor.signal(killed.task_arn, signal.SIGKILL)
    assert killed.popen.wait(timeout=10) == -signal.SIGKILL


def test_tasks_do_not_share_their_environment(supervisor: Supervisor, tmp_path: Path) -> None:
    ports = free_port(), free_port()
    for name, port in zip(("left", "right"), ports, strict=True):
        spawn(supervisor, tmp_path, name, task_env(port, SERVICE_NAME=name))
    assert [health(port)["service"] for port in ports] == ["left", "right"]


def test_what_a_fork_cannot_honour_runs_as_its_own_process(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    port = free_port()
    env = task_env(port, PYTHONHASHSEED="7")  # fixed when an interpreter starts
    task = spawn(supervisor, tmp_path, "seeded", env)
    assert not isinstance(task.popen, ForkedProcess)
    assert health(port)["service"] == "orders"


def test_a_dead_zygote_takes_its_tasks_and_popen_takes_over(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    port = free_port()
    forked = spawn(supervisor, tmp_path, "forked", task_env(port))
    health(port)
    zygote = supervisor.zygote
    assert zygote is not None and zygote._process is not None
    zygote._process.kill()
    assert forked.popen.wait(timeout=10) == -signal.SIGKILL  # the parent-death signal
    later = spawn(supervisor, tmp_path, "later", task_env(free_port()))
    assert not isinstance(later.popen, ForkedProcess)
