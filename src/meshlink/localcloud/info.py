"""Where the local cloud lives: port, state directory, pid file (no heavy imports)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PORT = 4580
HOST = "localhost"
BIND_ADDRESS = "127.0.0.1"
BASE_ACCESS_KEY = "meshlink"
BASE_SECRET_KEY = "meshlink"  # noqa: S105 - fixed, documented credentials of the emulator
STATE_FILE = "localcloud.json"
LOG_FILE = "localcloud.log"


def default_port() -> int:
    """$MESHLINK_LOCAL_PORT, else 4580."""
    value = os.environ.get("MESHLINK_LOCAL_PORT")
    return int(value) if value else DEFAULT_PORT


def state_dir(override: Path | str | None = None) -> Path:
    """$MESHLINK_STATE_DIR, else $XDG_STATE_HOME/meshlink, else ~/.local/state/meshlink."""
    if override is not None:
        return Path(override)
    if os.environ.get("MESHLINK_STATE_DIR"):
        return Path(os.environ["MESHLINK_STATE_DIR"])
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "meshlink"


def endpoint_for(port: int) -> str:
    return f"http://{HOST}:{port}"


@dataclass(frozen=True)
class LocalCloudInfo:
    """A running (or just stopped) local cloud: how to reach it and where its files are."""

    endpoint_url: str
    port: int
    pid: int
    state_dir: str
    log_file: str
    started_at: float
    version: str = ""
    # The timing in force (meshlink.localcloud.clock.Timing.to_dict()); {} from older servers.
    timing: dict[str, Any] = field(default_factory=dict)

    @property
    def admin_url(self) -> str:
        return f"{self.endpoint_url}/_meshlink"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LocalCloudInfo:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in fields})


def read_state(directory: Path) -> LocalCloudInfo | None:
    """The pid/port file written by the server, or None when absent or unreadable."""
    path = directory / STATE_FILE
    try:
        return LocalCloudInfo.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_state(directory: Path, info: LocalCloudInfo) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(info.to_dict(), indent=2))
    tmp.replace(directory / STATE_FILE)


def clear_state(directory: Path, pid: int | None = None) -> None:
    """Remove the pid/port file (only if it still names `pid`, when given)."""
    current = read_state(directory)
    if current is None or pid is None or current.pid == pid:
        (directory / STATE_FILE).unlink(missing_ok=True)
