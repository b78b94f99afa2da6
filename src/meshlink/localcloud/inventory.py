"""Counts of what exists in the local cloud, per account (read from moto's backends).

Runs inside the server process; the caller holds the moto lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Counter = Callable[[Any], int]


def _regional(service: str) -> Iterator[tuple[str, str, Any]]:
    """(account, region, backend) for every backend moto has created for `service`."""
    from moto.backends import get_backend

    backend_dict = get_backend(service)  # type: ignore[call-overload]
    for account_id, per_account in list(dict.items(backend_dict)):
        for region, backend in list(dict.items(per_account)):
            yield account_id, region, backend


def _count_ec2(backend: Any) -> dict[str, int]:
    vpcs = [v for v in backend.vpcs.values() if not v.is_default]
    vpc_ids = {v.id for v in vpcs}
    subnets = [s for per_az in backend.subnets.values() for s in per_az.values()]
    groups = [g for per_vpc in backend.groups.values() for g in per_vpc.values()]
    return {
        "vpcs": len(vpcs),
        "subnets": sum(1 for s in subnets if s.vpc_id in vpc_ids),
        "security_groups": sum(1 for g in groups if g.vpc_id in vpc_ids),
        "vpc_endpoints": sum(1 for e in backend.vpc_end_points.values() if e.state != "deleted"),
        "endpoint_services": len(backend.configurations),
    }


def _live_tasks(backend: Any) -> int:
    # Stopped tasks stay describable for a while (on AWS too) but no longer exist.
    return sum(
        1
        for per_cluster in backend.tasks.values()
        for task in per_cluster.values()
        if getattr(task, "last_status", None) != "STOPPED"
    )


# What exists as AWS would show it: moto keeps deleted ECS clusters and services as
# INACTIVE and stopped tasks as STOPPED; none of those counts.
_COUNTERS: dict[str, Counter] = {
    "stacks": lambda b: sum(1 for s in b.stacks.values() if s.status != "DELETE_COMPLETE"),
    "load_balancers": lambda b: len(b.load_balancers),
    "target_groups": lambda b: len(b.target_groups),
    "ecs_clusters": lambda b: sum(1 for c in b.clusters.values() if c.status != "INACTIVE"),
    "ecs_services": lambda b: sum(1 for s in b.services.values() if s.status != "INACTIVE"),
    "ecs_tasks": _live_tasks,
    "log_groups": lambda b: len(b.groups),
}
_SERVICE_OF = {
    "stacks": "cloudformation",
    "load_balancers": "elbv2",
    "target_groups": "elbv2",
    "ecs_clusters": "ecs",
    "ecs_services": "ecs",
    "ecs_tasks": "ecs",
    "log_groups": "logs",
}


def summary() -> dict[str, Any]:
    """{"accounts": {id: {region: {kind: n}}}, "totals": {kind: n}} for non-empty accounts."""
    accounts: dict[str, dict[str, dict[str, int]]] = {}

    def add(account: str, region: str, counts: dict[str, int]) -> None:
        slot = accounts.setdefault(account, {}).setdefault(region, {})
        for kind, n in counts.items():
            slot[kind] = slot.get(kind, 0) + n

    for account, region, backend in _regional("ec2"):
        add(account, region, _count_ec2(backend))
    for kind, counter in _COUNTERS.items():
        for account, region, backend in _regional(_SERVICE_OF[kind]):
            try:
                add(account, region, {kind: counter(backend)})
            except AttributeError:
                continue
    kept = {
        account: {region: counts for region, counts in regions.items() if any(counts.values())}
        for account, regions in accounts.items()
    }
    kept = {account: regions for account, regions in kept.items() if regions}
    totals: dict[str, int] = {}
    for regions in kept.values():
        for counts in regions.values():
            for kind, n in counts.items():
                totals[kind] = totals.get(kind, 0) + n
    return {"accounts": kept, "totals": totals}
