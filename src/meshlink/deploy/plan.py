"""`plan`: per node, what `up` would do — create, update (with resource changes), unchanged."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from meshlink.deploy.handlers import HANDLERS, NodeContext, NodeHandler
from meshlink.deploy.handlers.model import Action, Change, NodePlan
from meshlink.deploy.run import selected_graph
from meshlink.deploy.runtime import MeshRuntime
from meshlink.graph.planner import Node


@dataclass(frozen=True)
class MeshPlan:
    nodes: list[NodePlan]

    def totals(self) -> dict[str, int]:
        totals = {"create": 0, "update": 0, "unchanged": 0, "reconcile": 0, "delete": 0}
        for plan in self.nodes:
            totals[plan.action] += 1
        return totals

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": [asdict(n) for n in self.nodes], "totals": self.totals()}


class Planner:
    """Works out each node's plan without changing any resource."""

    def __init__(
        self,
        runtime: MeshRuntime,
        *,
        handlers: Mapping[str, NodeHandler] = HANDLERS,
        context: Callable[[MeshRuntime], NodeContext] = NodeContext,
    ):
        self.runtime = runtime
        self.handlers = handlers
        self.ctx = context(runtime)

    def node(self, node: Node) -> NodePlan:
        return self.handlers[node.kind].plan(self.ctx, node)


def plan(runtime: MeshRuntime) -> MeshPlan:
    """What `up` would do to every node of the mesh (touches no resource)."""
    from meshlink.deploy.ownership import ensure_owned

    runtime.connect()
    ensure_owned(runtime)  # another identity's stacks: exit 3 unless --adopt
    planner = Planner(runtime)
    graph = selected_graph(runtime)
    nodes = [planner.node(graph.nodes[nid]) for nid in graph.topological_order()]
    if runtime.options.only != "network":
        from meshlink.deploy.orphans import find_orphans

        nodes += [
            NodePlan(o.node, "delete", f"{o.stack}: no longer in the topology")
            for o in find_orphans(runtime)
        ]
    return MeshPlan(nodes)


__all__ = ["Action", "Change", "MeshPlan", "NodePlan", "Planner", "plan"]
