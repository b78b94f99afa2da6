"""One run at a time per mesh: a lock file naming its holder, stale locks taken over."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from meshlink.errors import LockHeld


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    me = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "since": time.time(),
    }
    for _ in range(3):
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(path)
            pid = holder.get("pid") if holder else None
            same_host = holder is not None and holder.get("host") == me["host"]
            if isinstance(pid, int) and same_host and not _alive(pid):
                path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            if holder is None:
                # Being written this very moment, or garbage: give it a moment.
                time.sleep(0.05)
                if _holder(path) is None:
                    path.unlink(missing_ok=True)
                continue
            raise LockHeld(
                f"another meshlink run holds the lock on this mesh: "
                f"'{holder.get('command')}' (pid {pid} on {holder.get('host')})",
                hint=f"wait for it to finish; if it is gone, delete {path}",
            ) from None
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(me, stream)
        break
    else:
        raise LockHeld(f"could not take the lock {path}", hint=f"delete {path} and retry")
    try:
        yield path
    finally:
        holder = _holder(path)
        if holder and holder.get("pid") == me["pid"]:
            path.unlink(missing_ok=True)
