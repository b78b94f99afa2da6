"""What is deployed, per node and per edge, read from the stacks (not only the journal)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from meshlink.deploy.runtime import MeshRuntime
from meshlink.errors import MeshlinkError
from meshlink.graph.planner import plan_graph
from meshlink.topology.naming import stack_name


@dataclass(frozen=True)
class NodeStatus:
    node: str
    account: str
    stack: str | None
    stack_status: str | None  # live CloudFormation status; None when absent
    journal_status: str


@dataclass(frozen=True)
class EdgeStatus:
    consumer: str
    provider: str
    endpoint_id: str | None
    dns_name: str | None
    state: str  # the endpoint's live state, or "absent"


@dataclass(frozen=True)
class MeshStatus:
    nodes: list[NodeStatus]
    edges: list[EdgeStatus]

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": [asdict(n) for n in self.nodes], "edges": [asdict(e) for e in self.edges]}


def _live_stacks(runtime: MeshRuntime, account: str) -> dict[str, str]:
    from meshlink.deploy.live import mesh_stacks

    return mesh_stacks(runtime.client(account, "cloudformation"), runtime.topology.name)


def edge_states(runtime: MeshRuntime) -> list[EdgeStatus]:
    """Every edge with its interface endpoint and that endpoint's live state."""
    from meshlink.stacks.outputs import EndpointsOutputs

    topology = runtime.topology
    edges: list[EdgeStatus] = []
    for consumer, provider in topology.edges():
        outputs = runtime.journal.get(f"endpoints:{consumer}").outputs
        endpoint_id = outputs.get(EndpointsOutputs.endpoint_id(provider))
        dns = outputs.get(EndpointsOutputs.endpoint_dns(provider))
        state = "absent"
        if endpoint_id:
            ec2 = runtime.client(topology.services[consumer].account, "ec2")
            try:
                found = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
                state = found[0]["State"] if found else "absent"
            except Exception:  # botocore ClientError: InvalidVpcEndpointId.NotFound
                state = "absent"
        edges.append(EdgeStatus(consumer, provider, endpoint_id, dns, state))
    return edges


def mesh_status(runtime: MeshRuntime) -> MeshStatus:
    """Per node: live stack status and journal status; per edge: endpoint state."""
    topology = runtime.topology
    live: dict[str, dict[str, str]] = {}
    nodes: list[NodeStatus] = []
    for node in plan_graph(topology):
        name = node.stack_name(topology.name)
        stack_status: str | None = None
        if node.kind == "network" and runtime.network_engine.name != "cdk":
            try:
                stack_status = "APPLIED" if runtime.network_engine.outputs(node.account) else None
            except (MeshlinkError, KeyError):
                stack_status = None
            name = None
        elif name is not None:
            if node.account not in live:
                live[node.account] = _live_stacks(runtime, node.account)
            stack_status = live[node.account].get(
                stack_name(topology.name, node.kind, node.subject)
            )
        nodes.append(
            NodeStatus(
                node.id, node.account, name, stack_status, runtime.journal.get(node.id).status
            )
        )
    return MeshStatus(nodes, edge_states(runtime))
