"""What is deployed, per node and per edge, read from the stacks (not only the journal)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from meshlink.deploy.handlers import NodeContext, handler_for
from meshlink.deploy.handlers.model import APPLIED, HEALTHY
from meshlink.deploy.runtime import MeshRuntime
from meshlink.graph.planner import Node, node_id, plan_graph
from meshlink.words import plural

# How a node stands, judged from its live state and the journal's record of it.
Verdict = Literal["healthy", "absent", "failed", "drifted", "not deployed"]
VERDICTS: tuple[Verdict, ...] = ("healthy", "absent", "failed", "drifted", "not deployed")
# Verdicts that keep `status` at exit code 0.
FINE: frozenset[Verdict] = frozenset({"healthy", "not deployed"})


@dataclass(frozen=True)
class NodeStatus:
    node: str
    account: str
    stack: str | None
    stack_status: str | None  # live CloudFormation status; None when absent
    journal_status: str
    drift: list[str] = field(default_factory=list)  # where live and journal disagree
    # Live resources of the node that are not as they should be (deploy/drift): `plan`
    # lists the node as a repair, and `up` repairs it.
    resource_drift: list[str] = field(default_factory=list)

    @property
    def live_healthy(self) -> bool:
        return self.stack_status == APPLIED or self.stack_status in HEALTHY

    @property
    def verdict(self) -> Verdict:
        """healthy, absent (journal says done), failed, drifted, or not deployed at all."""
        live = self.stack_status
        if self.journal_status == "failed" or (live is not None and not self.live_healthy):
            return "failed"
        if self.journal_status == "done" and live is None and self.drift:
            return "absent"
        if self.drift or self.resource_drift:
            return "drifted"
        return "healthy" if self.journal_status == "done" else "not deployed"

    @property
    def present(self) -> bool:
        """Something of the node exists that `down` would delete.

        A node with no live state of its own (accept: its connections live on the
        endpoints) counts as present while the journal records it done.
        """
        if self.stack_status is not None:
            return True
        return self.journal_status == "done" and not self.drift

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


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

    def counts(self) -> dict[str, int]:
        """How many nodes have each verdict (every verdict present, zeros included)."""
        counts: dict[str, int] = dict.fromkeys(VERDICTS, 0)
        for node in self.nodes:
            counts[node.verdict] += 1
        return counts

    def edges_expected(self) -> list[EdgeStatus]:
        """Edges whose consumer's endpoints the journal records as done."""
        done = {n.node for n in self.nodes if n.journal_status == "done"}
        return [e for e in self.edges if node_id("endpoints", e.consumer) in done]

    def edges_down(self) -> list[EdgeStatus]:
        """Expected edges whose endpoint is not available."""
        return [e for e in self.edges_expected() if e.state != "available"]

    @property
    def ok(self) -> bool:
        """Every node the journal records is live and healthy, and so are its endpoints."""
        return all(n.verdict in FINE for n in self.nodes) and not self.edges_down()

    def summary(self) -> str:
        """One line, e.g. "status: 12 healthy, 1 absent (journal says done), 0 failed"."""
        counts = self.counts()
        parts = [
            f"{counts['healthy']} healthy",
            f"{counts['absent']} absent (journal says done)",
            f"{counts['failed']} failed",
        ]
        if counts["drifted"]:
            parts.append(f"{counts['drifted']} drifted")
        if counts["not deployed"]:
            parts.append(f"{counts['not deployed']} not deployed")
        expected = self.edges_expected()
        if expected:
            up = len(expected) - len(self.edges_down())
            parts.append(f"{up} of {plural(len(expected), 'endpoint')} available")
        return "status: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary(),
            "counts": self.counts(),
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [asdict(e) for e in self.edges],
        }


def edge_states(runtime: MeshRuntime) -> list[EdgeStatus]:
    """Every edge with its interface endpoint and that endpoint's live state (one
    DescribeVpcEndpoints per account, not per edge; none for what `up` read already)."""
    from meshlink.stacks.outputs import EndpointsOutputs

    runtime.connect()
    topology = runtime.topology
    found: list[tuple[str, str, str | None, str | None, str]] = []
    for consumer, provider in topology.edges():
        outputs = runtime.journal.get(node_id("endpoints", consumer)).outputs
        endpoint_id = outputs.get(EndpointsOutputs.endpoint_id(provider))
        dns = outputs.get(EndpointsOutputs.endpoint_dns(provider))
        account = topology.endpoints_account(consumer)
        found.append((consumer, provider, endpoint_id, dns, account))
    states = dict(runtime.endpoint_states)
    by_account: dict[str, list[str]] = {}
    for _, _, endpoint_id, _, account in found:
        if endpoint_id and str(endpoint_id) not in states:
            by_account.setdefault(account, []).append(str(endpoint_id))
    for account, ids in by_account.items():
        states.update(_endpoint_states(runtime.client(account, "ec2"), ids))
    return [
        EdgeStatus(c, p, e, d, states.get(str(e), "absent") if e else "absent")
        for c, p, e, d, _ in found
    ]


def _endpoint_states(ec2: Any, endpoint_ids: list[str]) -> dict[str, str]:
    """endpoint id -> its state; one call for all, or one each when one is gone (EC2
    then refuses the whole call with InvalidVpcEndpointId.NotFound)."""
    try:
        found = ec2.describe_vpc_endpoints(VpcEndpointIds=endpoint_ids)["VpcEndpoints"]
        return {str(e["VpcEndpointId"]): str(e["State"]) for e in found}
    except Exception:  # botocore ClientError: InvalidVpcEndpointId.NotFound
        if len(endpoint_ids) == 1:
            return {}
    states: dict[str, str] = {}
    for endpoint_id in endpoint_ids:
        states.update(_endpoint_states(ec2, [endpoint_id]))
    return states


def node_states(
    runtime: MeshRuntime, nodes: Iterable[Node] | None = None, ctx: NodeContext | None = None
) -> list[NodeStatus]:
    """Live state, journal status and drift of `nodes` (default: every node of the mesh)."""
    runtime.connect()
    ctx = ctx or NodeContext(runtime)
    found: list[NodeStatus] = []
    for node in plan_graph(runtime.topology) if nodes is None else nodes:
        drift = handler_for(node).drift(ctx, node)
        found.append(
            NodeStatus(
                node.id,
                node.account,
                drift.stack,
                drift.live,
                drift.journal,
                list(drift.differences),
            )
        )
    return found


def mesh_status(runtime: MeshRuntime, ctx: NodeContext | None = None) -> MeshStatus:
    """Per node: live state, journal status and their drift (the stack's, and its live
    resources' as `plan` shows it: deploy/drift); per edge: endpoint state."""
    from dataclasses import replace

    from meshlink.deploy.drift.detect import detect

    nodes = node_states(runtime, ctx=ctx)
    found = detect(runtime).by_node()
    nodes = [replace(n, resource_drift=[f.what for f in found.get(n.node, [])]) for n in nodes]
    return MeshStatus(nodes, edge_states(runtime))


@dataclass(frozen=True)
class Teardown:
    """What `down` would delete: the nodes present now, and stacks the topology lost."""

    present: list[NodeStatus]
    absent: list[str]  # nodes of the run with nothing to delete
    orphans: list[str]  # stacks no node deploys any more

    @property
    def empty(self) -> bool:
        return not self.present and not self.orphans


def teardown(runtime: MeshRuntime, ctx: NodeContext | None = None) -> Teardown:
    """What `down` (with the runtime's --only) would delete; reads only."""
    from meshlink.deploy.run import selected_graph

    graph = selected_graph(runtime)
    states = node_states(runtime, [graph.nodes[n] for n in graph.topological_order()], ctx)
    orphans: list[str] = []
    if runtime.options.only != "network":
        from meshlink.deploy.orphans import find_orphans

        orphans = [o.stack for o in find_orphans(runtime)]
    return Teardown(
        [s for s in states if s.present], [s.node for s in states if not s.present], orphans
    )
