"""`plan`: per node, what `up` would do — create, update (with resource changes), unchanged."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from meshlink.deploy.nodes import HEALTHY, NodeActions, fingerprint
from meshlink.deploy.run import selected_graph
from meshlink.deploy.runtime import MeshRuntime
from meshlink.errors import MeshlinkError
from meshlink.graph.parameters import fill_parameters
from meshlink.graph.planner import Node
from meshlink.topology.naming import stack_name

Action = Literal["create", "update", "unchanged", "reconcile", "delete"]


@dataclass(frozen=True)
class Change:
    action: str  # Add | Modify | Remove
    logical_id: str
    resource_type: str
    replacement: str | None = None


@dataclass(frozen=True)
class NodePlan:
    node: str
    action: Action
    detail: str = ""
    changes: list[Change] = field(default_factory=list)


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


def _additions(template: dict[str, Any]) -> list[Change]:
    resources = template.get("Resources", {})
    return [Change("Add", lid, str(spec.get("Type", ""))) for lid, spec in resources.items()]


class Planner:
    """Works out each node's plan without changing any resource."""

    def __init__(self, runtime: MeshRuntime):
        self.runtime = runtime
        self.actions = NodeActions(runtime)
        self.topology = runtime.topology

    def _stack_status(self, node: Node) -> str | None:
        from meshlink.engines.cdk.deployer import Deployer

        name = stack_name(self.topology.name, node.kind, node.subject)
        return Deployer(self.runtime.client(node.account, "cloudformation")).status(name)

    def node(self, node: Node) -> NodePlan:
        if node.kind == "accept":
            consumers = self.topology.consumers_of(node.subject)
            return NodePlan(
                node.id,
                "reconcile",
                f"accept {len(consumers)} expected connection(s), reject any other",
            )
        if node.kind == "network":
            return self._network(node)
        return self._stack(node)

    def _network(self, node: Node) -> NodePlan:
        engine = self.runtime.network_engine
        result = engine.plan(node.account)
        if hasattr(result, "has_changes"):  # Terraform's change summary
            if not result.has_changes:
                return NodePlan(node.id, "unchanged", "terraform: no changes")
            counts = f"+{result.add} ~{result.change} -{result.destroy}"
            action: Action = "create" if not result.change and not result.destroy else "update"
            return NodePlan(node.id, action, f"terraform: {counts}")
        return self._from_stack_plan(node, result)

    def _from_stack_plan(self, node: Node, result: Any) -> NodePlan:
        changes = [
            Change(c.action, c.logical_id, c.resource_type, c.replacement) for c in result.changes
        ]
        if result.unchanged:
            return NodePlan(node.id, "unchanged", "no changes")
        action: Action = "create" if result.change_type == "CREATE" else "update"
        detail = "recreate (stack is in ROLLBACK_COMPLETE)" if result.recreate else ""
        return NodePlan(node.id, action, detail, changes)

    def _stack(self, node: Node) -> NodePlan:
        from meshlink.engines.cdk.deployer import stack_tags

        name = stack_name(self.topology.name, node.kind, node.subject)
        template = self.runtime.synthesized().template(name)
        status = self._stack_status(node)
        if status is None:
            return NodePlan(node.id, "create", "", _additions(template))
        try:
            parameters = fill_parameters(
                template, self.actions.outputs_of, self.actions.resolvers()
            )
        except MeshlinkError as error:
            return NodePlan(node.id, "update", f"after upstream changes ({error.message})")
        record = self.runtime.journal.get(node.id)
        if record.fingerprint == fingerprint(template, parameters) and status in HEALTHY:
            return NodePlan(node.id, "unchanged", "fingerprint matches")
        deployer = self.actions.deployer(node.account, lambda message: None)
        result = deployer.diff(
            name, template, parameters=parameters, tags=stack_tags(self.topology.name, node.id)
        )
        return self._from_stack_plan(node, result)


def plan(runtime: MeshRuntime) -> MeshPlan:
    """What `up` would do to every node of the mesh (touches no resource)."""
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
