"""The data plane's admin routes under /_meshlink/ (served by the local-cloud process).

* ``GET /_meshlink/dns?name=N``          -> ``{"name", "address"}`` (404 when unknown);
  without ``name``: every record.
* ``GET /_meshlink/processes``           -> every task process (pid, address, log file).
* ``GET /_meshlink/dataplane``           -> listeners, health, refusals, errors.
* ``GET /_meshlink/task-logs?service=S&lines=N`` -> the tails of the matching task logs.
* ``GET /_meshlink/refusals?source=A&since=T`` -> connections from address A refused
  since T (epoch seconds), each with its reason (which group, which ENI, which port).
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.admin import AdminError, AdminRequest, AdminResponse, register_route
from meshlink.localcloud.admin import unregister_route as _unregister

ROUTES = ("/dns", "/processes", "/dataplane", "/task-logs", "/refusals")


def lookup(dns: dict[str, str], name: str) -> str | None:
    """The address of `name` (case and a trailing dot ignored; an IP is itself)."""
    wanted = name.strip().rstrip(".").lower()
    if wanted in dns:
        return dns[wanted]
    if wanted.count(".") == 3 and all(p.isdigit() for p in wanted.split(".")):
        return wanted
    return None


def register(reconciler: Any) -> None:
    import meshlink.localcloud.dataplane.api as api

    def dns(request: AdminRequest) -> Any:
        records = dict(reconciler.world.dns)
        name = request.query.get("name")
        if name is None:
            return {"records": records}
        address = lookup(records, name)
        if address is None:
            raise AdminError(f"no such name in the local cloud: {name}", status=404)
        return {"name": name, "address": address}

    def processes(_: AdminRequest) -> Any:
        return {"tasks": reconciler.tasks()}

    def dataplane(_: AdminRequest) -> Any:
        return reconciler.describe()

    def task_logs(request: AdminRequest) -> AdminResponse:
        lines = int(request.query.get("lines") or 100)
        found = api.task_logs(request.query.get("service"), root=reconciler.root / "logs")
        text = "".join(
            f"==> {entry.path} <==\n{api.read_task_log(entry.path, lines)}\n" for entry in found
        )
        return AdminResponse(text)

    def refusals(request: AdminRequest) -> Any:
        try:
            since = float(request.query.get("since") or 0.0)
        except ValueError as error:
            raise AdminError(f"since must be epoch seconds: {error}", status=400) from error
        found = reconciler.network.refusals_from(request.query.get("source"), since)
        return {"refusals": [r.to_dict() for r in found]}

    register_route("/dns", dns)
    register_route("/processes", processes)
    register_route("/dataplane", dataplane)
    register_route("/task-logs", task_logs)
    register_route("/refusals", refusals)


def unregister() -> None:
    for route in ROUTES:
        _unregister(route)
