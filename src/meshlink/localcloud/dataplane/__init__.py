"""The local cloud's data plane: ECS tasks, NLBs and interface endpoints made real on loopback.

Loaded by the local-cloud server (:mod:`meshlink.localcloud.server`), which calls
:func:`start` with its :class:`~meshlink.localcloud.server.ServerContext` once the
HTTP server is bound; the callable returned is called on shutdown and stops every
process the data plane started. See docs/ARCHITECTURE.md ("The local cloud") and
:mod:`.reconciler`.

Light to import: moto is only touched by the reconciler thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("meshlink.localcloud.dataplane")


class Context(Protocol):
    """What :func:`start` needs of the server's context."""

    port: int
    state_dir: Path
    moto_lock: threading.RLock


_current: Any = None  # the running Reconciler (one per process)


def start(context: Context, *, host_access: bool | None = None) -> Callable[[], None]:
    """Start the reconciler and register the admin routes; returns the stop function."""
    from meshlink.localcloud.dataplane import patches, routes
    from meshlink.localcloud.dataplane.addresses import (
        claim_octet,
        octet_for_port,
        release_octet,
    )
    from meshlink.localcloud.dataplane.reconciler import Reconciler

    global _current
    patches.install()
    # $MESHLINK_LOCAL_OCTET pins the range (macOS: only aliased addresses exist on lo0).
    pinned = os.environ.get("MESHLINK_LOCAL_OCTET", "").strip()
    preferred = int(pinned) if pinned.isdigit() else octet_for_port(context.port)
    octet, claim = claim_octet(preferred)
    reconciler = Reconciler(Path(context.state_dir), context.moto_lock, octet, host_access)
    patches.set_board(reconciler.health)
    patches.set_waker(reconciler.wake)
    routes.register(reconciler)
    reconciler.start()
    _current = reconciler
    log.info("data plane started (ENI addresses 127.%s.0.0/16)", reconciler.eni_pool.octet)

    def stop() -> None:
        global _current
        reconciler.stop()
        release_octet(claim)
        routes.unregister()
        patches.set_board(None)
        patches.set_waker(None)
        if _current is reconciler:
            _current = None
        log.info("data plane stopped")

    return stop


def current() -> Any:
    """The running reconciler in this process, or None (tests, debugging)."""
    return _current
