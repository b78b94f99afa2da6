"""What is deployed, per node and per edge, read from the stacks (not only the journal)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from meshlink.deploy.handlers import NodeContext, handler_for
from meshlink.deploy.runtime import MeshRuntime
from meshlink.graph.planner import node_id, plan_graph


@dataclass(frozen=True)
class NodeStatus:
    node: str
    account: str
    stack: str | None
    stack_status: str | None  # live CloudFormation status; None when absent
    journal_status: str
    drift: list[str] = field(default_factory=list)  # where live and journal disagree


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


def edge_states(runtime: MeshRuntime) -> list[EdgeStatus]:
    """Every edge with its interface endpoint and that endpoint's live state."""
    from meshlink.stacks.outputs import EndpointsOutputs

    runtime.connect()
    topology = runtime.topology
    edges: list[EdgeStatus] = []
    for consumer, provider in topology.edges():
        outputs = runtime.journal.get(node_id("endpoints", consumer)).outputs
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


def mesh_status(runtime: MeshRuntime, ctx: NodeContext | None = None) -> MeshStatus:
    """Per node: live state, journal status and their drift; per edge: endpoint state."""
    runtime.connect()
    ctx = ctx or NodeContext(runtime)
    nodes: list[NodeStatus] = []
    for node in plan_graph(runtime.topology):
        drift = handler_for(node).drift(ctx, node)
        nodes.append(
            NodeStatus(
                node.id,
                node.account,
                drift.stack,
                drift.live,
                drift.journal,
                list(drift.differences),
            )
        )
    return MeshStatus(nodes, edge_states(runtime))
