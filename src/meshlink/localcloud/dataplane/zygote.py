"""A pre-imported parent that forks the bundled service's task processes.

Every task that runs the bundled service (``python -m meshlink_service ...``) used to
start a fresh interpreter and import FastAPI, pydantic, uvicorn and httpx: 0.3-0.7 s of
CPU each, which at 32 services is most of the CPU an `up` spends while the data plane
starts tasks. This process imports them once and forks a child per task; the child is
what a fresh ``python -m meshlink_service`` would be (its own session, its environment,
its working directory, stdout and stderr in the task's log, the parent-death signal)
and reports its exit status the way ``subprocess`` does (negative for a signal).

Protocol, one JSON object per line: the supervisor writes
``{"id": n, "args": [...], "env": {...}, "cwd": "...", "log": "..."}`` on our stdin; we
answer ``{"ready": true}`` once the imports are done, ``{"id": n, "pid": p}`` (or
``{"id": n, "error": "..."}``) per request, and ``{"exit": p, "status": s}`` when a
child ends. EOF on stdin stops us; our own death SIGKILLs the children.

Run as ``python -m meshlink.localcloud.dataplane.zygote``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
from pathlib import Path
from typing import Any

from meshlink.localcloud.dataplane import parent_death

REAP_EVERY = 0.05  # seconds between checks for exited children when no request comes

# What an interpreter reads once, when it starts (paths, hashing, locale and stdio
# encoding, warnings, the time zone): a task whose environment sets one differently
# from the zygote's runs as its own process instead.
FIXED_AT_START = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSAFEPATH",
    "PYTHONHASHSEED",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "PYTHONWARNINGS",
    "PYTHONDEVMODE",
    "PYTHONOPTIMIZE",
    "PYTHONNOUSERSITE",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
)


def preimport() -> None:
    """What ``meshlink_service`` serve and probe-all import, loaded once for every task."""
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # as cli._serve does
    import uvicorn.lifespan.on  # what uvicorn.Config.load() imports for us
    import uvicorn.loops.asyncio
    import uvicorn.protocols.http.h11_impl  # noqa: F401

    import meshlink_service.cli
    import meshlink_service.config
    import meshlink_service.probe_all
    import meshlink_service.server  # noqa: F401


def _become_task(
    request: dict[str, Any], parent: int, protocol: tuple[int, int], home: str
) -> None:
    """In the forked child: the session, descriptors, signals, directory and environment
    a fresh ``python -m meshlink_service`` of the task would have."""
    os.setsid()
    parent_death.arm(parent_death.prctl(), parent)  # we are single-threaded: safe here
    for fd in protocol:
        os.close(fd)
    # As a fresh interpreter has them: SIGPIPE stays ignored (inherited from us, a Python
    # process), SIGINT raises KeyboardInterrupt, the rest default.
    for signum in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.chdir(request["cwd"])
    if sys.path and sys.path[0] == home:  # `-m` put our directory first; the task's own
        sys.path[0] = request["cwd"]  # process would have its working directory there
    os.environ.clear()
    os.environ.update(request["env"])
    unbuffered = request["env"].get("PYTHONUNBUFFERED") == "1"
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, write_through=unbuffered)  # type: ignore[union-attr]
    sys.argv = ["meshlink_service", *request["args"]]
    import random

    random.seed()  # not the sibling tasks' sequence


def _run(args: list[str]) -> int:
    """The service's main, its exit code as the interpreter would make it."""
    from meshlink_service.cli import main

    try:
        return main(args)
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1


def _child(request: dict[str, Any], parent: int, protocol: tuple[int, int], home: str) -> None:
    """In the forked child: become the task, run the service's main, never return."""
    code, interrupted = 1, False
    try:
        _become_task(request, parent, protocol, home)
        code = _run(request["args"])
    except KeyboardInterrupt:  # SIGINT unhandled: die of it, as a fresh process does
        interrupted = True
    except BaseException:  # a crash is the task's exit code 1, with its traceback logged
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed log: nothing to say
                stream.flush()
        if interrupted:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        os._exit(code)


def _send(fd: int, message: dict[str, Any]) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


def _reap(out: int) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(out, {"exit": pid, "status": os.waitstatus_to_exitcode(status)})


def serve() -> int:
    # The protocol gets its own descriptors; 0 and 1 become /dev/null and our stderr, so
    # nothing a library prints can corrupt it and a child's stdio starts clean.
    inp, out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    preimport()
    me, home = os.getpid(), str(Path.cwd())
    _send(out, {"ready": True})
    pending = b""
    while True:
        readable, _, _ = select.select([inp], [], [], REAP_EVERY)
        _reap(out)
        if not readable:
            continue
        chunk = os.read(inp, 1 << 16)
        if not chunk:
            return 0  # the supervisor is gone or stopping: our children follow us
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            try:
                pid = os.fork()
            except OSError as error:
                _send(out, {"id": request["id"], "error": str(error)})
                continue
            if pid == 0:
                _child(request, me, (inp, out), home)
            _send(out, {"id": request["id"], "pid": pid})


if __name__ == "__main__":
    raise SystemExit(serve())
