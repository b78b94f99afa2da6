"""Bundled-service tasks forked from the zygote behave as the processes they replace."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from meshlink.localcloud.dataplane.command import base_env
from meshlink.localcloud.dataplane.forked import ForkedProcess, Zygote
from meshlink.localcloud.dataplane.processes import MARKER, Supervisor, TaskProcess

BUNDLED = [sys.executable, "-m", "meshlink_service"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def task_env(port: int, **extra: str) -> dict[str, str]:
    env = {**base_env(), "SERVICE_NAME": "orders", "PORT": str(port)}  # as build_env
    env.update(HOST="127.0.0.1", BIND_ADDRESS="127.0.0.1", PYTHONUNBUFFERED="1")
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


@pytest.mark.parametrize("setting", [{"PYTHONHASHSEED": "7"}, {"TZ": "Asia/Tokyo"}])
def test_what_a_fork_cannot_honour_runs_as_its_own_process(
    supervisor: Supervisor, tmp_path: Path, setting: dict[str, str]
) -> None:
    port = free_port()
    env = task_env(port, **setting)  # read once, when an interpreter starts
    task = spawn(supervisor, tmp_path, "seeded", env)
    assert not isinstance(task.popen, ForkedProcess)
    assert health(port)["service"] == "orders"


def ignored_signals(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("SigIgn:"))[7:], 16)


def test_a_forked_task_ignores_sigpipe_as_a_fresh_interpreter_does(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    """A peer that hangs up mid-answer is a BrokenPipeError, not a task killed by SIGPIPE."""
    ports = free_port(), free_port()
    forked = spawn(supervisor, tmp_path, "forked", task_env(ports[0]))
    fresh = spawn(supervisor, tmp_path, "fresh", task_env(ports[1], PYTHONHASHSEED="1"))
    assert isinstance(forked.popen, ForkedProcess) and not isinstance(fresh.popen, ForkedProcess)
    for port in ports:
        health(port)
    pipe = 1 << (signal.SIGPIPE - 1)
    assert ignored_signals(forked.pid) & pipe == ignored_signals(fresh.pid) & pipe == pipe


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


def test_a_fork_answered_as_the_zygote_fails_is_not_tracked(tmp_path: Path) -> None:
    """The answer comes, then the zygote's end: no exit status would ever come for it."""
    zygote = Zygote({}, None)

    class Stdin:
        def write(self, _: bytes) -> None:
            def answer_then_fail() -> None:
                with zygote._lock:
                    zygote._answers[0] = {"id": 0, "pid": 2**22 + 1}
                    zygote._fail("it exited")

            threading.Thread(target=answer_then_fail).start()

        def flush(self) -> None:
            pass

    zygote._process = SimpleNamespace(stdin=Stdin(), poll=lambda: 0)  # type: ignore[assignment]
    zygote._ready.set()
    assert zygote.spawn([*BUNDLED], {}, tmp_path / "log", tmp_path) is None
    assert zygote._children == {} and zygote._broken
