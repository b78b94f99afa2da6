"""Linux's parent-death signal: a child SIGKILLed when the process that started it dies.

Every task process gets it (``processes.py``, ``zygote.py``), so that even a local cloud
killed with SIGKILL takes its tasks with it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1


def prctl() -> Callable[..., Any] | None:
    """libc's ``prctl`` (Linux); resolve it before forking from a threaded process: the
    child of one must not load anything."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def arm(call: Callable[..., Any] | None, parent: int) -> None:
    """In a new child of `parent`: die with it, and at once if it is already gone
    (it died between the fork and here)."""
    if call is not None:
        call(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
