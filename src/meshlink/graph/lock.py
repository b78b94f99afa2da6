"""One run at a time per mesh: an advisory lock (flock) whose file names its holder.

The kernel releases a flock when its process dies, however it dies, so a crashed run
never leaves a lock behind and two runs cannot both take over a stale one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from meshlink.errors import LockHeld


def _holder(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def mesh_lock(directory: Path, command: str) -> Iterator[Path]:
    """Hold the lock of the mesh whose state lives in `directory` while the block runs."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lock"
    handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path) or {}
            raise LockHeld(
                f"another meshlink run holds the lock on this mesh: "
                f"'{holder.get('command', '?')}' (pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')})",
                hint="wait for it to finish (or stop it); the lock goes with its process",
            ) from None
        me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
              "since": time.time()}  # fmt: skip
        os.ftruncate(handle, 0)
        os.pwrite(handle, json.dumps(me).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(handle, 0)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
