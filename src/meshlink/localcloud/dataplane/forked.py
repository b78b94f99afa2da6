"""The supervisor's side of the zygote (`zygote.py`): start it, ask it to fork, track exits.

`ForkedProcess` answers the part of ``subprocess.Popen`` the supervisor uses (``pid``,
``poll``, ``wait``, ``returncode``), so a forked task and a Popen'ed one are handled
alike. If the zygote cannot start, dies or stops answering, `spawn` returns None and
the supervisor starts the task as its own process, as it always did.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from meshlink.localcloud.dataplane.command import base_env
from meshlink.localcloud.dataplane.zygote import FIXED_AT_START

log = logging.getLogger("meshlink.localcloud.zygote")

# Seconds a fork may take to be confirmed. Past that the zygote is given up for good,
# and killed (its children with it): a late child would otherwise run untracked.
ANSWER_WAIT = 30.0
BUNDLED = ("-m", "meshlink_service")


class ForkedProcess:
    """A task process forked by the zygote; its exit status arrives from the zygote."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exited = threading.Event()

    def _exit(self, status: int) -> None:
        self.returncode = status
        self._exited.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(["meshlink_service"], timeout or 0.0)
        assert self.returncode is not None
        return self.returncode


class Zygote:
    """One zygote process for a supervisor, started on first use, ready in the background."""

    def __init__(
        self,
        marker_env: Mapping[str, str],
        preexec: Callable[[], None] | None,
        home: Path | None = None,
    ) -> None:
        # What every task's environment starts from, as the zygote's own: what it read at
        # start is then what a task's own interpreter would have read.
        self._env = {**base_env(), **marker_env}
        self._home = home  # its working directory: an empty one, as a task's is
        self._preexec = preexec
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._broken = False
        self._next_id = 0
        self._answers: dict[int, dict[str, Any]] = {}
        self._answered = threading.Condition(self._lock)
        self._children: dict[int, ForkedProcess] = {}
        self._early_exits: dict[int, int] = {}

    def eligible(self, command: list[str], env: Mapping[str, str]) -> bool:
        """The bundled service, run by this interpreter with the zygote's start-up settings."""
        if command[:3] != [sys.executable, *BUNDLED]:
            return False
        return all(env.get(name) == self._env.get(name) for name in FIXED_AT_START)

    def spawn(
        self, command: list[str], env: dict[str, str], log_path: Path, cwd: Path
    ) -> ForkedProcess | None:
        """Fork the task; None when the zygote is not (or no longer) able to."""
        with self._lock:
            if self._broken:
                return None
            if self._process is None:
                self._start()
                return None  # this one runs as its own process while the zygote imports
            if not self._ready.is_set():
                return None
            request_id = self._next_id
            self._next_id += 1
            request = {
                "id": request_id,
                "args": command[3:],
                "env": env,
                "cwd": str(cwd),
                "log": str(log_path),
            }
            assert self._process.stdin is not None
            try:
                self._process.stdin.write((json.dumps(request) + "\n").encode())
                self._process.stdin.flush()
            except (OSError, ValueError) as error:  # ValueError: closed by stop()
                self._fail(f"cannot write to it: {error}")
                return None
            deadline = time.monotonic() + ANSWER_WAIT
            while request_id not in self._answers and not self._broken:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._fail(f"no answer to a fork in {ANSWER_WAIT:.0f}s")
                    return None
                self._answered.wait(left)
            answer = self._answers.pop(request_id, None)
            if answer is None or "pid" not in answer or self._broken:
                # Failed or stopping meanwhile: a child it forked dies with it (the
                # parent-death signal), and no exit of it would reach us.
                return None
            child = ForkedProcess(int(answer["pid"]))
            early = self._early_exits.pop(child.pid, None)
            if early is not None:
                child._exit(early)
            else:
                self._children[child.pid] = child
            return child

    def start(self) -> None:
        """Start it now (it is otherwise started by the first eligible spawn)."""
        with self._lock:
            if self._process is None and not self._broken:
                self._start()

    def wait_until_ready(self, timeout: float) -> bool:
        """Whether it finished its imports (and forks the next eligible spawn) in time."""
        return self._ready.wait(timeout) and not self._broken

    def _start(self) -> None:
        try:
            home = self._home or Path(tempfile.mkdtemp(prefix="meshlink-zygote-"))
            home.mkdir(parents=True, exist_ok=True)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "meshlink.localcloud.dataplane.zygote"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,  # the local cloud's log
                env=self._env,
                cwd=home,
                start_new_session=True,
                close_fds=True,
                preexec_fn=self._preexec,
            )
        except OSError as error:
            self._broken = True
            log.warning("zygote: cannot start (%s): tasks start as their own processes", error)
            return
        assert self._process.stdout is not None
        threading.Thread(
            target=self._read, args=(self._process.stdout,), name="zygote-reader", daemon=True
        ).start()

    def _read(self, stream: IO[bytes]) -> None:
        with stream:  # this thread reads it to its end, and closes it
            self._dispatch(stream)
        with self._lock:
            self._fail("it exited")

    def _dispatch(self, stream: IO[bytes]) -> None:
        for line in stream:
            message = json.loads(line)
            with self._lock:
                if message.get("ready"):
                    self._ready.set()
                    log.info("zygote ready: bundled-service tasks are forked from it")
                elif "exit" in message:
                    child = self._children.pop(int(message["exit"]), None)
                    if child is None:  # exited before its pid was handed out
                        self._early_exits[int(message["exit"])] = int(message["status"])
                    else:
                        child._exit(int(message["status"]))
                else:
                    self._answers[int(message["id"])] = message
                    self._answered.notify_all()

    def _fail(self, why: str) -> None:
        """Under the lock: no more forks; its children die with it (parent-death signal)."""
        if not self._broken:
            log.warning("zygote: %s: tasks start as their own processes", why)
        self._broken = True
        self._answered.notify_all()
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        for child in self._children.values():
            child._exit(-signal.SIGKILL)
        self._children.clear()

    def stop(self) -> None:
        """Close its stdin (it exits); its remaining children get the parent-death signal."""
        with self._lock:
            process, self._broken = self._process, True
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
