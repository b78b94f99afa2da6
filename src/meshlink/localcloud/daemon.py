"""Start, find, query and stop the local cloud's background process (library functions).

``meshlink local ...`` and ``meshlink up`` (target: local) both call these.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshlink.errors import EnvironmentProblem
from meshlink.localcloud import clock, info
from meshlink.localcloud.clock import Timing
from meshlink.localcloud.errors import LocalCloudDown
from meshlink.localcloud.info import LocalCloudInfo

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
SERVER_MODULE = "meshlink.localcloud.server"


@dataclass(frozen=True)
class LocalCloudStatus:
    """What `status()` reports: running or not, and, when running, what it holds."""

    running: bool
    state_dir: str
    info: LocalCloudInfo | None = None
    uptime_seconds: float | None = None
    totals: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, Any] = field(default_factory=dict)
    extensions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"running": self.running, "state_dir": self.state_dir}
        if self.info is not None:
            data.update(
                endpoint=self.info.endpoint_url,
                port=self.info.port,
                pid=self.info.pid,
                log_file=self.info.log_file,
                uptime_seconds=self.uptime_seconds,
                resources=self.totals,
                accounts=self.accounts,
                extensions=self.extensions,
                timing=self.info.timing or {"mode": "instant", "scale": 1.0, "consistency": False},
            )
        return data


def _get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http://localhost only
        return json.loads(response.read())


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our own exited child) is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _is_our_server(pid: int) -> bool:
    """True when `pid` runs meshlink's server module (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid_alive(pid)
    return SERVER_MODULE.encode() in cmdline


def _healthy(record: LocalCloudInfo, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        health = _get_json(f"{record.admin_url}/health", timeout)
    except (OSError, ValueError):
        return None
    if not isinstance(health, dict) or health.get("pid") != record.pid:
        return None
    return health


def find(state_dir: Path | str | None = None) -> LocalCloudInfo | None:
    """The running local cloud recorded under `state_dir`, or None (stale files removed)."""
    directory = info.state_dir(state_dir)
    record = info.read_state(directory)
    if record is None:
        return None
    if not (pid_alive(record.pid) and _is_our_server(record.pid)):
        info.clear_state(directory, record.pid)
        return None
    return record


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((info.BIND_ADDRESS, port))
        except OSError:
            return False
    return True


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(
    port: int | None = None,
    state_dir: Path | str | None = None,
    *,
    timeout: float = START_TIMEOUT,
    timing: Timing | None = None,
) -> LocalCloudInfo:
    """Start the local cloud in the background and wait until it answers; idempotent.

    `port` None means $MESHLINK_LOCAL_PORT or 4580; 0 lets the OS pick a free port.
    `timing` None means $MESHLINK_LOCAL_TIMING / $MESHLINK_LOCAL_TIME_SCALE (default
    instant). Raises EnvironmentProblem when the port is taken, the process does not
    come up, or a local cloud already runs with another timing than `timing`.
    """
    directory = info.state_dir(state_dir)
    directory.mkdir(parents=True, exist_ok=True)
    # Two `meshlink up` runs at once must not both spawn a server.
    with _start_lock(directory):
        record, started = _start_locked(directory, port, timeout, timing)
    if timing is not None and not started and Timing.from_dict(record.timing) != timing:
        raise EnvironmentProblem(
            f"the local cloud already runs with timing {Timing.from_dict(record.timing).describe()}"
            f", not {timing.describe()}",
            hint="stop it first (meshlink local stop): a timing is set when it starts",
        )
    return record


@contextlib.contextmanager
def _start_lock(directory: Path) -> Iterator[None]:
    import fcntl

    with (directory / "localcloud.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _start_locked(
    directory: Path, port: int | None, timeout: float, timing: Timing | None = None
) -> tuple[LocalCloudInfo, bool]:
    """(the running local cloud, whether this call started it)."""
    running = find(directory)
    if running is not None and _healthy(running):
        return running, False
    chosen = info.default_port() if port is None else port
    if chosen and not _port_free(chosen):
        raise EnvironmentProblem(
            f"cannot start the local cloud: port {chosen} on {info.BIND_ADDRESS} is in use",
            hint="stop whatever listens there, or pick another port with MESHLINK_LOCAL_PORT",
        )
    log_path = directory / info.LOG_FILE
    info.clear_state(directory)
    chosen_timing = timing or clock.parse()
    env = dict(os.environ)
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                SERVER_MODULE,
                "--port",
                str(chosen),
                "--state-dir",
                str(directory),
                "--timing",
                chosen_timing.mode,
                "--time-scale",
                repr(chosen_timing.scale),
                "--consistency",
                "on" if chosen_timing.consistency else "off",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the CLI; Ctrl-C in the shell does not reach it
            env=env,
            close_fds=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EnvironmentProblem(
                f"the local cloud exited during start (code {process.returncode})",
                hint=f"see {log_path}:\n{_log_tail(log_path)}",
            )
        record = info.read_state(directory)
        if record is not None and record.pid == process.pid and _healthy(record):
            return record, True
        time.sleep(0.05)
    _terminate(process.pid)
    raise EnvironmentProblem(
        f"the local cloud did not answer within {timeout:.0f}s", hint=f"see {log_path}"
    )


def ensure_running(
    port: int | None = None,
    state_dir: Path | str | None = None,
    *,
    on_start: Callable[[LocalCloudInfo], None] | None = None,
) -> LocalCloudInfo:
    """The running local cloud, started first when needed (what `meshlink up` calls).

    `on_start` is called with the new local cloud when this call started it, so the
    caller can say so: a local cloud must never come to life unannounced.
    """
    directory = info.state_dir(state_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with _start_lock(directory):
        record, started = _start_locked(directory, port, START_TIMEOUT)
    if started and on_start is not None:
        on_start(record)
    return record


def is_running(state_dir: Path | str | None = None) -> bool:
    """True when the local cloud recorded under `state_dir` runs and answers."""
    record = find(state_dir)
    return record is not None and _healthy(record) is not None


def require_running(state_dir: Path | str | None = None) -> LocalCloudInfo:
    """The running local cloud, or LocalCloudDown (exit 3) when it is down."""
    record = find(state_dir)
    if record is None or not _healthy(record):
        raise LocalCloudDown()
    return record


def _terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while pid_alive(pid):
        time.sleep(0.05)


def stop(state_dir: Path | str | None = None) -> LocalCloudInfo | None:
    """Stop the local cloud (SIGTERM, then SIGKILL); returns what was stopped, or None."""
    directory = info.state_dir(state_dir)
    record = find(directory)
    if record is None:
        return None
    _terminate(record.pid)
    info.clear_state(directory, record.pid)
    return record


def status(state_dir: Path | str | None = None) -> LocalCloudStatus:
    """Whether the local cloud runs, its endpoint, uptime and resource counts."""
    directory = info.state_dir(state_dir)
    record = find(directory)
    health = _healthy(record) if record is not None else None
    if record is None or health is None:
        return LocalCloudStatus(running=False, state_dir=str(directory))
    try:
        summary = _get_json(f"{record.admin_url}/summary", timeout=10.0)
    except (OSError, ValueError):
        summary = {}
    return LocalCloudStatus(
        running=True,
        state_dir=str(directory),
        info=record,
        uptime_seconds=float(health.get("uptime_seconds", 0.0)),
        totals=dict(summary.get("totals", {})),
        accounts=dict(summary.get("accounts", {})),
        extensions=list(health.get("extensions_loaded", [])),
    )


def log_path(state_dir: Path | str | None = None) -> Path:
    """The local cloud's log file (it may not exist yet)."""
    return info.state_dir(state_dir) / info.LOG_FILE


def read_log(state_dir: Path | str | None = None, lines: int | None = 100) -> str:
    """The last `lines` lines of the log (all when None); EnvironmentProblem when absent."""
    path = log_path(state_dir)
    if not path.exists():
        raise EnvironmentProblem(
            f"no local cloud log at {path}", hint="start it with: meshlink local start"
        )
    text = path.read_text(errors="replace")
    if lines is None:
        return text
    return "\n".join(text.splitlines()[-lines:]) + ("\n" if text else "")


__all__ = [
    "LocalCloudInfo",
    "LocalCloudStatus",
    "ensure_running",
    "find",
    "is_running",
    "log_path",
    "read_log",
    "require_running",
    "start",
    "status",
    "stop",
]


def follow_log(state_dir: Path | str | None = None, poll: float = 0.5) -> Iterator[str]:
    """New text appended to the log, as it comes (until interrupted)."""
    path = log_path(state_dir)
    with path.open("r", errors="replace") as handle:
        handle.seek(0, 2)
        while True:
            chunk = handle.read()
            if chunk:
                yield chunk
            else:
                time.sleep(poll)
