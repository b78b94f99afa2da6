"""The data plane's own record of each task it runs (moto's Task is the public view)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from meshlink.localcloud.dataplane.processes import TaskProcess

State = Literal["pending", "running", "stopping"]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe(name: str) -> str:
    """A string usable as one path component."""
    return _UNSAFE.sub("_", name).strip("._") or "_"


@dataclass
class TaskRecord:
    """One task the data plane runs or is about to run."""

    arn: str
    account: str
    region: str
    cluster: str
    group: str  # ECS group: "service:<name>" or "family:<family>"
    task: Any  # moto's Task
    ec2: Any  # moto's EC2 backend of the task's account/region
    container: dict[str, Any]
    override: dict[str, Any]
    ports: tuple[int, ...]
    address: str  # the ENI's loopback address (or a private one when not awsvpc)
    backend: str  # where the process listens
    eni_id: str | None
    log_path: Path
    service_key: str | None = None  # "<account>/<region>/<cluster>:<service>"
    service: Any = None  # moto's Service
    state: State = "pending"
    proc: TaskProcess | None = None
    stop_reason: str | None = None
    stop_code: str | None = None
    stop_requested_at: float | None = None
    unresolved: tuple[str, ...] = ()  # AWS names it had to start with unresolved
    secrets: dict[str, str] = field(default_factory=dict)  # read at start; never logged
    xray_daemon: bool = False  # the task definition has an X-Ray daemon sidecar
    created: float = field(default_factory=time.monotonic)

    @property
    def task_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def service_name(self) -> str | None:
        return self.group.split(":", 1)[1] if self.group.startswith("service:") else None

    @property
    def display_name(self) -> str:
        """Service name, or ``run-<family>`` for a one-off task."""
        name = self.group.split(":", 1)[-1]
        return name if self.group.startswith("service:") else f"run-{name}"

    def to_dict(self) -> dict[str, Any]:
        """The admin API's view of this task."""
        proc = self.proc
        return {
            "task_arn": self.arn,
            "account": self.account,
            "region": self.region,
            "cluster": self.cluster,
            "group": self.group,
            "service": self.service_name,
            "name": self.display_name,
            "state": self.state,
            "address": self.address,
            "backend": self.backend,
            "eni": self.eni_id,
            "ports": list(self.ports),
            "pid": proc.pid if proc else None,
            "command": proc.command if proc else None,
            "log": str(self.log_path),
        }


def log_path(root: Path, account: str, cluster: str, name: str, task_id: str) -> Path:
    """``<root>/<account>/<cluster>/<service or run-family>/<task id>.log``."""
    return root / safe(account) / safe(cluster) / safe(name) / f"{safe(task_id)}.log"
