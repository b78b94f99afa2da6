"""Small helpers shared by tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshlink.localcloud.clock import Timing
    from meshlink.localcloud.info import LocalCloudInfo

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FIXTURES = REPO / "tests" / "fixtures"

VALID_YAML = """\
name: shop
region: us-east-1
accounts:
  users: { id: "111111111111", vpc_cidr: 10.1.0.0/16 }
  notify: { id: "222222222222", vpc_cidr: 10.2.0.0/16 }
services:
  user-service:
    account: users
    port: 8080
    consumes: [notification-service]
  notification-service:
    account: notify
    port: 8081
    consumes: [user-service]
"""


@contextmanager
def running_local_cloud(state_dir: Path, timing: Timing | None = None) -> Iterator[LocalCloudInfo]:
    """A local cloud on a free port (under `timing`, else instant) that `meshlink up`
    finds while the block runs (MESHLINK_STATE_DIR and MESHLINK_LOCAL_PORT point at it);
    stopped, and checked gone, afterwards."""
    from meshlink.localcloud import daemon

    info = daemon.start(port=0, state_dir=state_dir, timing=timing)
    saved = {k: os.environ.get(k) for k in ("MESHLINK_STATE_DIR", "MESHLINK_LOCAL_PORT")}
    os.environ["MESHLINK_STATE_DIR"] = str(state_dir)
    os.environ["MESHLINK_LOCAL_PORT"] = str(info.port)
    try:
        yield info
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        daemon.stop(state_dir)
        # A leaked server would outlive the test run: make it loud.
        assert not daemon.pid_alive(info.pid), f"local cloud pid {info.pid} survived stop"
