"""`plan`: per node, what `up` will do — create, update (with the property changes),
replace (and which property forces it), delete, reconcile, repair (drift) or unchanged.

Handlers plan with the skip test `up` uses, and with the outputs `up` will pass on
(handlers/outlook.py), so a node below a changing one is never planned unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from meshlink.deploy.drift.model import DriftReport
from meshlink.deploy.estimate import Estimate, estimate_up
from meshlink.deploy.handlers import HANDLERS, NodeContext, NodeHandler
from meshlink.deploy.handlers.model import Action, Change, NodePlan
from meshlink.deploy.handlers.outlook import Outlook
from meshlink.deploy.run import selected_graph
from meshlink.deploy.runtime import MeshRuntime
from meshlink.graph.planner import Node


@dataclass(frozen=True)
class MeshPlan:
    nodes: list[NodePlan]
    # How long `up` will take on AWS (deploy/estimate.py); None when not estimated.
    estimate: Estimate | None = None

    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(
            ("create", "update", "replace", "unchanged", "reconcile", "delete", "repair"), 0
        )
        for plan in self.nodes:
            totals[plan.action] += 1
        return totals

    def changed(self) -> list[str]:
        """Nodes `up` will act on (everything but unchanged)."""
        return [n.node for n in self.nodes if n.action != "unchanged"]

    def drifted(self) -> list[NodePlan]:
        """Nodes whose live resources drifted (whatever else `up` does to them)."""
        return [n for n in self.nodes if n.drift]

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [_node_dict(n) for n in self.nodes],
            "totals": self.totals(),
            "drift": {n.node: list(n.drift) for n in self.drifted()},
            **({"estimate": self.estimate.to_dict()} if self.estimate else {}),
        }


def _node_dict(plan: NodePlan) -> dict[str, Any]:
    data = asdict(plan)
    # What the planner predicted of its outputs is for downstream nodes, not the user.
    data.pop("outputs", None)
    data.pop("changing", None)
    return data


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
        self.outlook = Outlook()
        self.ctx.outlook = self.outlook

    def node(self, node: Node) -> NodePlan:
        """The node's plan; nodes are planned dependencies first, as `up` runs them."""
        planned = self.handlers[node.kind].plan(self.ctx, node)
        self.outlook.record(planned)
        return planned


def plan(runtime: MeshRuntime) -> MeshPlan:
    """What `up` would do to every node of the mesh (touches no resource)."""
    from meshlink.deploy.ownership import ensure_owned

    runtime.connect()
    ensure_owned(runtime)  # another identity's stacks: exit 3 unless --adopt
    planner = Planner(runtime)
    graph = selected_graph(runtime)
    nodes = [planner.node(graph.nodes[nid]) for nid in graph.topological_order()]
    nodes = with_drift(nodes, drift_of(runtime, graph.nodes))
    if runtime.options.only != "network":
        from meshlink.deploy.orphans import find_orphans

        nodes += [
            NodePlan(o.node, "delete", f"{o.stack}: no longer in the topology")
            for o in find_orphans(runtime)
        ]
    return MeshPlan(nodes, estimate_up(runtime, graph, nodes))


def drift_of(runtime: MeshRuntime, nodes: Collection[str]) -> DriftReport:
    """What of `nodes` drifted, as `up` would find it (deploy/drift)."""
    from meshlink.deploy.drift.detect import detect

    return detect(runtime, nodes)


def with_drift(plans: list[NodePlan], drift: DriftReport) -> list[NodePlan]:
    """Each drifted node's plan with its drift; one `up` would leave unchanged becomes
    a repair, saying what drifted."""
    found = drift.by_node()
    result = []
    for planned in plans:
        whats = [f.what for f in found.get(planned.node, [])]
        if not whats:
            result.append(planned)
        elif planned.action == "unchanged":
            result.append(replace(planned, action="repair", detail="; ".join(whats), drift=whats))
        else:
            result.append(replace(planned, drift=whats))
    return result


__all__ = ["Action", "Change", "MeshPlan", "NodePlan", "Planner", "plan"]
