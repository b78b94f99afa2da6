"""How long `up` will take on AWS: the critical path of the nodes that will change.

Each node's duration comes from the durations table (meshlink.durations):

* a stack node: its template's resources in CloudFormation's dependency order (Ref,
  Fn::GetAtt, Fn::Sub, DependsOn), each resource its table duration for what the plan
  does to it (create, update; a replacement creates then deletes), plus the stack's own
  overhead. The ECS service of a service stack counts its task start and target health
  (CloudFormation waits for a stable service);
* the network: its CDK template the same way, or, under Terraform, the table's
  VPC -> subnet -> NAT gateway -> route chain;
* an accept node: the delay before a new endpoint's connection reaches the provider.

Where this mesh's journal recorded how long a node's earlier change of the same kind
took (scaled back to AWS time when the run was under a local time scale), that measure
replaces the table's. Nodes run the moment their dependencies finish (graph/executor.py),
so `up` takes about the longest chain: the critical path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshlink import durations

if TYPE_CHECKING:
    from meshlink.deploy.handlers.model import NodePlan
    from meshlink.deploy.runtime import MeshRuntime
    from meshlink.graph.executor import Outcome
    from meshlink.graph.journal import NodeRecord
    from meshlink.graph.planner import DeploymentGraph, Node

# Under Terraform the network is no CloudFormation template: its longest chain by hand.
NETWORK_CHAIN = ("vpc.create", "subnet.create", "nat_gateway.create", "route.create")
# A plan action -> the kind of change a journal measure must be of to stand in for it.
MEASURED_KIND = {"create": "create", "update": "update", "replace": "update", "repair": "update"}


@dataclass(frozen=True)
class Estimate:
    """`up`'s duration on AWS: the critical path's seconds, its nodes and the basis."""

    seconds: float
    critical_path: list[str]
    basis: str
    nodes: dict[str, float] = field(default_factory=dict)  # every changing node's seconds
    measured: list[str] = field(default_factory=list)  # nodes timed from the journal

    def to_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "critical_path": self.critical_path,
            "basis": self.basis,
            "nodes": {n: round(s, 1) for n, s in sorted(self.nodes.items())},
            "measured": self.measured,
        }

    def line(self) -> str:
        """The one line `plan` prints."""
        if not self.critical_path:
            return "up will change nothing: no time on AWS"
        chain = " -> ".join(self.critical_path)
        return f"up takes about {duration_words(self.seconds)} on AWS ({chain}; {self.basis})"


def duration_words(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


# -- the critical path ------------------------------------------------------------------


def critical_path(
    depends_on: Mapping[str, Sequence[str]], seconds: Mapping[str, float]
) -> tuple[float, list[str]]:
    """The longest chain through `depends_on` weighted by `seconds` (0 when absent): its
    length and the nodes on it that take time, dependencies first."""
    finish: dict[str, float] = {}
    before: dict[str, str | None] = {}

    def visit(nid: str, trail: frozenset[str]) -> float:
        if nid in finish:
            return finish[nid]
        if nid in trail:
            raise ValueError(f"dependency cycle through {nid}")
        deps = [d for d in depends_on.get(nid, ()) if d in depends_on]
        ends = {d: visit(d, trail | {nid}) for d in deps}
        slowest = max(ends, key=lambda d: (ends[d], d), default=None)
        before[nid] = slowest
        finish[nid] = (ends[slowest] if slowest else 0.0) + seconds.get(nid, 0.0)
        return finish[nid]

    for nid in sorted(depends_on):
        visit(nid, frozenset())
    if not finish:
        return 0.0, []
    end = max(finish, key=lambda n: (finish[n], n))
    total = finish[end]
    path: list[str] = []
    last: str | None = end
    while last is not None:
        if seconds.get(last, 0.0) > 0:
            path.append(last)
        last = before[last]
    return total, path[::-1]


# -- one template -----------------------------------------------------------------------


def _references(value: Any) -> Iterator[str]:
    """Logical ids `value` refers to (Ref, Fn::GetAtt, ${X} in Fn::Sub)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                yield str(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                for part in str(text).split("${")[1:]:
                    yield part.split("}")[0].split(".")[0]
                yield from _references(inner)
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def resource_graph(template: Mapping[str, Any]) -> dict[str, list[str]]:
    """Logical id -> the resources CloudFormation creates first (dependency order)."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    graph: dict[str, list[str]] = {}
    for logical_id, resource in resources.items():
        depends = resource.get("DependsOn") or []
        refs = set(_references(resource.get("Properties") or {}))
        refs.update([depends] if isinstance(depends, str) else depends)
        graph[logical_id] = sorted(r for r in refs if r in resources and r != logical_id)
    return graph


def template_seconds(
    template: Mapping[str, Any], actions: Mapping[str, list[durations.Action]]
) -> float:
    """A stack operation's duration on AWS: the longest resource chain of `actions`
    (logical id -> what happens to it: create/update/delete, in order), plus overhead.
    Resources left out take no time but still order the others."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    weights: dict[str, float] = {}
    for lid, steps in actions.items():
        resource = resources.get(lid) or {}
        kind, props = str(resource.get("Type", "")), resource.get("Properties") or {}
        weights[lid] = sum(durations.resource_duration(kind, step, props) for step in steps)
    graph = resource_graph(template)
    for lid in weights:  # removed resources: not in the template, deleted at the end
        graph.setdefault(lid, [])
    longest, _ = critical_path(graph, weights)
    return longest + durations.seconds("stack.create_overhead")


def stack_actions(template: Mapping[str, Any], plan: NodePlan) -> dict[str, list[durations.Action]]:
    """What the plan does to each resource of the stack (all created, for a new stack)."""
    if plan.action == "create":
        return {lid: ["create"] for lid in template.get("Resources") or {}}
    return change_actions(plan.changes)


def change_actions(changes: Iterable[Any]) -> dict[str, list[durations.Action]]:
    """What resource changes (a change set's: action, logical_id, replacement) do to each
    resource: a replacement creates the new one, then deletes the old."""
    steps: dict[str, list[durations.Action]] = {
        "Add": ["create"],
        "Remove": ["delete"],
        "Modify": ["update"],
    }
    actions: dict[str, list[durations.Action]] = {}
    for change in changes:
        replaced = change.action == "Modify" and change.replacement in ("True", "Conditional")
        actions[change.logical_id] = (
            ["create", "delete"] if replaced else steps.get(change.action, ["update"])
        )
    return actions


def stack_duration(template: Mapping[str, Any], scale: float) -> Callable[[Iterable[Any]], float]:
    """How long CloudFormation should take to make a change set's changes to the stack of
    `template`, in seconds of a run at `scale` (what the stack's waits poll around)."""
    return lambda changes: template_seconds(template, change_actions(changes)) * scale


# -- the mesh ---------------------------------------------------------------------------


def measured_seconds(record: NodeRecord, action: str) -> float | None:
    """The journal's AWS-time duration of the node's last change of `action`'s kind."""
    measure = record.measured or {}
    if measure.get("kind") != MEASURED_KIND.get(action):
        return None
    value = measure.get("aws_seconds")
    return float(value) if isinstance(value, int | float) and value > 0 else None


def estimate_up(
    runtime: MeshRuntime,
    graph: DeploymentGraph,
    plans: Sequence[NodePlan],
    *,
    template: Callable[[Node], Mapping[str, Any] | None] | None = None,
) -> Estimate:
    """`up`'s duration on AWS for the nodes `plans` says will change (see the docstring).

    `template` gives a stack node's template (None: not a CloudFormation stack)."""
    by_node = {p.node: p for p in plans}
    template_of = template or (lambda node: _template(runtime, node))
    seconds: dict[str, float] = {}
    measured: list[str] = []
    for node in graph:
        plan = by_node.get(node.id)
        if plan is None or plan.action == "unchanged":
            continue
        known = measured_seconds(runtime.journal.get(node.id), plan.action)
        if known is not None:
            seconds[node.id] = known
            measured.append(node.id)
        else:
            seconds[node.id] = node_seconds(node, plan, template_of(node))
    depends = {node.id: list(node.depends_on) for node in graph}
    total, path = critical_path(depends, seconds)
    basis = "durations table"
    if measured:
        basis += f", {len(measured)} node(s) as this mesh's journal timed them"
    return Estimate(total, path, basis, seconds, sorted(measured))


def node_seconds(node: Node, plan: NodePlan, template: Mapping[str, Any] | None) -> float:
    """One changing node's duration on AWS, from the durations table."""
    if node.kind == "accept":
        return durations.seconds("interface_endpoint.connection_visible")
    if template is None:  # a network Terraform deploys
        return sum(durations.seconds(key) for key in NETWORK_CHAIN)
    return template_seconds(template, stack_actions(template, plan))


def _template(runtime: MeshRuntime, node: Node) -> Mapping[str, Any] | None:
    if node.kind == "network":
        engine: Any = runtime.network_engine
        template = getattr(engine, "template", None)
        return template(node.subject) if callable(template) else None
    name = node.stack_name(runtime.topology.name)
    return runtime.synthesized().template(name) if name else None


# -- what the journal records -----------------------------------------------------------


def measure(
    runtime: MeshRuntime, before: str, started: float, outcome: Outcome
) -> dict[str, Any] | None:
    """What the journal keeps of a node's change (None when it changed nothing or the
    run's timing says nothing about AWS: the local cloud's instant timing)."""
    deadlines = runtime.deadlines
    if outcome.status != "done" or deadlines.scale <= 0:
        return None
    wall = time.time() - started
    return {
        "kind": "update" if before == "done" else "create",
        "seconds": round(wall, 3),
        "time_scale": deadlines.scale,
        "aws_seconds": round(wall / deadlines.scale, 1),
    }
