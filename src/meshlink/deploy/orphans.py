"""Stacks of the mesh that the topology no longer has (a removed service): `up` deletes them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from meshlink.deploy.live import mesh_stacks
from meshlink.deploy.runtime import MeshRuntime
from meshlink.graph.executor import Event, EventSink, Outcome
from meshlink.graph.planner import KIND_ORDER, plan_graph

GONE = {"DELETE_COMPLETE"}


@dataclass(frozen=True)
class Orphan:
    account: str  # topology account key
    stack: str
    node: str  # the graph node the stack was deployed for, e.g. service:old-service


def _node_of(mesh: str, stack: str) -> str | None:
    rest = stack.removeprefix(f"meshlink-{mesh}-")
    kind, _, subject = rest.partition("-")
    return f"{kind}:{subject}" if kind in KIND_ORDER and subject else None


def find_orphans(runtime: MeshRuntime) -> list[Orphan]:
    """Stacks named for this mesh, in its accounts, that no node of the graph deploys."""
    topology = runtime.topology
    expected = {n.stack_name(topology.name) for n in plan_graph(topology)}
    orphans: list[Orphan] = []
    for account in topology.accounts:
        live = mesh_stacks(runtime.client(account, "cloudformation"), topology.name)
        for name, status in live.items():
            node = _node_of(topology.name, name)
            if name not in expected and status not in GONE and node is not None:
                orphans.append(Orphan(account, name, node))
    # Dependants first: service, then endpoints, then edge, ...
    rank: dict[str, int] = {kind: index for index, kind in enumerate(KIND_ORDER)}
    orphans.sort(key=lambda o: -rank[o.node.split(":")[0]])
    return orphans


def delete_orphans(runtime: MeshRuntime, on_event: EventSink | None = None) -> dict[str, Outcome]:
    """Delete every orphan stack, dependants first; one outcome per stack's node."""
    from meshlink.engines.cdk.deployer import Deployer

    sink = on_event or (lambda event: None)
    outcomes: dict[str, Outcome] = {}
    for orphan in find_orphans(runtime):
        started = time.monotonic()
        sink(Event(orphan.node, "started"))
        deployer = Deployer(runtime.client(orphan.account, "cloudformation"))
        try:
            deployer.delete(orphan.stack)
            outcome = Outcome("done", "deleted: no longer in the topology")
            runtime.journal.forget(orphan.node)
        except Exception as error:  # one stuck stack must not hide the others
            message = getattr(error, "message", None) or str(error)
            outcome = Outcome("failed", f"could not delete {orphan.stack}: {message}")
        outcome.seconds = time.monotonic() - started
        outcomes[orphan.node] = outcome
        sink(Event(orphan.node, "finished", outcome.detail or "", outcome))
    return outcomes
