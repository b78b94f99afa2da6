"""Functions the CLI calls: ``meshlink local resolve NAME`` and ``meshlink local logs [service]``.

No moto, no boto3: they read the state directory or ask the running local cloud's
admin API, so they stay instant.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshlink.errors import EnvironmentProblem, MeshlinkError, UsageError
from meshlink.localcloud import info


class NameNotFound(MeshlinkError, LookupError):
    """The local cloud knows no endpoint or load balancer by that DNS name (exit 1)."""


@dataclass(frozen=True)
class TaskLog:
    """One task's log file: ``<state>/dataplane/logs/<account>/<cluster>/<name>/<task>.log``."""

    account: str
    cluster: str
    name: str  # service name, or run-<family> for a one-off task
    task_id: str
    path: Path
    modified: float


def logs_root(state_dir: Path | str | None = None) -> Path:
    return info.state_dir(state_dir) / "dataplane" / "logs"


def task_logs(
    service: str | None = None,
    *,
    state_dir: Path | str | None = None,
    root: Path | None = None,
) -> list[TaskLog]:
    """Task log files, oldest first; only `service`'s (or ``run-<family>``'s) when given.

    `service` may also be a task id. Works whether or not the local cloud is running.
    """
    base = root if root is not None else logs_root(state_dir)
    found = []
    for path in base.glob("*/*/*/*.log"):
        account, cluster, name = path.parts[-4:-1]
        if service and service not in (name, path.stem):
            continue
        try:
            modified = path.stat().st_mtime
        except OSError:
            continue
        found.append(TaskLog(account, cluster, name, path.stem, path, modified))
    return sorted(found, key=lambda entry: (entry.modified, str(entry.path)))


def read_task_log(path: Path, lines: int | None = 100) -> str:
    """The last `lines` lines of a task log (all when None)."""
    try:
        with path.open(errors="replace") as handle:
            kept = deque(handle, maxlen=lines) if lines else list(handle)
    except OSError:
        return ""
    return "".join(kept)


def _admin_get(
    path: str, state_dir: Path | str | None, timeout: float, endpoint_url: str | None = None
) -> Any:
    from meshlink.localcloud import daemon

    if endpoint_url is None:
        endpoint_url = daemon.require_running(state_dir).endpoint_url
    url = f"{endpoint_url}/_meshlink{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - localhost
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise EnvironmentProblem(f"the local cloud answered {error.code} for {url}") from error
    except (urllib.error.URLError, OSError) as error:
        raise EnvironmentProblem(
            f"cannot reach the local cloud at {endpoint_url}: {error}",
            hint="check it with: meshlink local status",
        ) from error


def resolve(name: str, *, state_dir: Path | str | None = None, timeout: float = 5.0) -> str:
    """The loopback address of an endpoint or NLB DNS name in the running local cloud."""
    if not name.strip():
        raise UsageError("resolve needs a DNS name", hint="e.g. an endpoint's DnsEntries name")
    query = urllib.parse.urlencode({"name": name})
    answer = _admin_get(f"/dns?{query}", state_dir, timeout)
    if not answer or "address" not in answer:
        raise NameNotFound(
            f"the local cloud knows no name {name}",
            hint="only available interface endpoints and network load balancers have names",
        )
    return str(answer["address"])


def processes(*, state_dir: Path | str | None = None, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Every task process of the running local cloud (pid, address, state, log file)."""
    answer = _admin_get("/processes", state_dir, timeout)
    return list((answer or {}).get("tasks", []))


def refusals(
    source: str,
    since: float = 0.0,
    *,
    endpoint_url: str | None = None,
    state_dir: Path | str | None = None,
    timeout: float = 5.0,
) -> list[dict[str, Any]]:
    """Connections from address `source` the data plane refused since `since` (epoch s).

    Each: ``{"at", "source", "address", "port", "reason"}``; the reason names the
    security group, the ENI and the port that refused it.
    """
    query = urllib.parse.urlencode({"source": source, "since": f"{since:.6f}"})
    answer = _admin_get(f"/refusals?{query}", state_dir, timeout, endpoint_url)
    return list((answer or {}).get("refusals", []))
