"""Task processes: started in their own process group, logged to a file, never orphaned.

Every child is started with ``PR_SET_PDEATHSIG`` (Linux) so that even a local cloud
killed with SIGKILL takes its tasks with it; a clean stop sends SIGTERM to every
process group, waits, then SIGKILLs what is left. The process groups are also written
to a registry file: the next start kills whatever a killed local cloud left behind
(grandchildren do not get the parent-death signal), after checking through
``/proc/<pid>/environ`` that the process really is one of this state directory's tasks.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from meshlink.localcloud.dataplane import parent_death
from meshlink.localcloud.dataplane.forked import ForkedProcess, Zygote

STOP_GRACE = 3.0
MARKER = "MESHLINK_LOCAL_TASK_OF"  # env var naming the state dir that started a task


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGKILL the child when the local cloud dies."""
    call = parent_death.prctl()
    if call is None:
        return None
    parent = os.getpid()
    return lambda: parent_death.arm(call, parent)


@dataclass
class TaskProcess:
    """One running (or finished) task process."""

    task_arn: str
    command: list[str]
    log_path: Path
    popen: subprocess.Popen[bytes] | ForkedProcess
    started_at: float = field(default_factory=time.time)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()


class Supervisor:
    """Starts and stops task processes; remembers them until they are reaped."""

    def __init__(self, registry: Path | None = None, marker: str = "") -> None:
        self._lock = threading.Lock()
        self._procs: dict[str, TaskProcess] = {}
        self._preexec = _die_with_parent()
        self._registry = registry
        self.marker = marker
        # Bundled-service tasks fork from a pre-imported parent (zygote.py) unless
        # MESHLINK_LOCAL_ZYGOTE=0; anything else, or a zygote that fails, runs as before.
        self.zygote = (
            Zygote(
                {MARKER: marker},
                self._preexec,
                registry.parent / "work" / "zygote" if registry is not None else None,
            )
            if os.environ.get("MESHLINK_LOCAL_ZYGOTE", "1") != "0"
            else None
        )

    def _save(self) -> None:
        if self._registry is None:
            return
        with self._lock:
            groups = {p.task_arn: p.pid for p in self._procs.values()}
        tmp = self._registry.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(groups))
            tmp.replace(self._registry)
        except OSError:
            pass

    def spawn(
        self, task_arn: str, command: list[str], env: dict[str, str], log_path: Path, cwd: Path
    ) -> TaskProcess:
        """Start `command`; raises OSError when it cannot be executed."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        cwd.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            header = f"[meshlink] {time.strftime('%Y-%m-%dT%H:%M:%S')} start {command!r}\n"
            log_file.write(header.encode())
        popen: subprocess.Popen[bytes] | ForkedProcess | None = None
        if self.zygote is not None and self.zygote.eligible(command, env):
            popen = self.zygote.spawn(command, env, log_path, cwd)
        if popen is None:
            popen = self._popen(command, env, log_path, cwd)
        proc = TaskProcess(task_arn, command, log_path, popen)
        with self._lock:
            self._procs[task_arn] = proc
        self._save()
        return proc

    def _popen(
        self, command: list[str], env: dict[str, str], log_path: Path, cwd: Path
    ) -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log_file:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,  # own process group: killed as a whole
                close_fds=True,
                preexec_fn=self._preexec,  # only prctl: safe even with threads
            )

    def prepare(self) -> None:
        """Start the zygote's imports ahead of the first task (call on the spawning thread)."""
        if self.zygote is not None:
            self.zygote.start()

    def get(self, task_arn: str) -> TaskProcess | None:
        with self._lock:
            return self._procs.get(task_arn)

    def all(self) -> list[TaskProcess]:
        with self._lock:
            return list(self._procs.values())

    def forget(self, task_arn: str) -> None:
        with self._lock:
            self._procs.pop(task_arn, None)
        self._save()

    def signal(self, task_arn: str, signum: int = signal.SIGTERM) -> None:
        """Signal the task's whole process group (no-op once it has exited)."""
        proc = self.get(task_arn)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)

    def stop(self, task_arns: list[str], grace: float = STOP_GRACE) -> None:
        """SIGTERM the tasks' process groups, wait up to `grace`, then SIGKILL."""
        for arn in task_arns:
            self.signal(arn, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for arn in task_arns:
            proc = self.get(arn)
            if proc is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            # The group may still hold grandchildren even when the leader has exited.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=2)

    def stop_all(self, grace: float = STOP_GRACE) -> None:
        self.stop([p.task_arn for p in self.all()], grace)
        if self.zygote is not None:
            self.zygote.stop()


def append_log(path: Path, line: str) -> None:
    """Add one meshlink line (exit code, stop reason) to a task's log."""
    try:
        with path.open("a") as handle:
            handle.write(f"[meshlink] {time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
    except OSError:
        pass


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ')'.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[2] == str(pgid):
            members.append(int(entry.name))
    return members


def _is_ours(pid: int, marker: str) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{MARKER}={marker}".encode() in environ.split(b"\0")


def kill_leftovers(registry: Path, marker: str) -> list[int]:
    """SIGKILL the process groups a killed local cloud left behind; returns the pids."""
    try:
        groups = json.loads(registry.read_text())
    except (OSError, ValueError):
        return []
    killed: list[int] = []
    if not Path("/proc").is_dir():
        return killed
    for pgid in {int(p) for p in groups.values()}:
        members = [pid for pid in _group_members(pgid) if _is_ours(pid, marker)]
        for pid in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    registry.unlink(missing_ok=True)
    return killed
