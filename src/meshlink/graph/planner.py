"""Topology -> deployment graph (docs/ARCHITECTURE.md): nodes whose dependencies point one way."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from meshlink.errors import MeshlinkError
from meshlink.topology.model import Topology
from meshlink.topology.naming import stack_name

NodeKind = Literal["network", "platform", "edge", "endpoints", "accept", "service", "dashboard"]
KIND_ORDER: tuple[NodeKind, ...] = (
    "network",
    "platform",
    "edge",
    "endpoints",
    "accept",
    "service",
    "dashboard",
)
STACK_KINDS = frozenset({"network", "platform", "edge", "endpoints", "service", "dashboard"})


def node_id(kind: str, subject: str) -> str:
    return f"{kind}:{subject}"


@dataclass(frozen=True)
class Node:
    """One unit of deployment: a stack (or Terraform root), or the acceptance step."""

    kind: NodeKind
    subject: str  # account key for network/platform, service name otherwise
    account: str  # account key the node deploys into
    depends_on: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return node_id(self.kind, self.subject)

    def stack_name(self, mesh: str) -> str | None:
        return stack_name(mesh, self.kind, self.subject) if self.kind in STACK_KINDS else None


@dataclass
class DeploymentGraph:
    """Nodes by id, in a topological order (dependencies first)."""

    nodes: dict[str, Node] = field(default_factory=dict)

    def add(self, node: Node) -> None:
        self.nodes[node.id] = node

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def dependants(self, nid: str) -> list[str]:
        return [n.id for n in self if nid in n.depends_on]

    def topological_order(self) -> list[str]:
        """Node ids, every node after its dependencies; raises on a cycle."""
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(nid: str, trail: tuple[str, ...]) -> None:
            if state.get(nid) == 2:
                return
            if state.get(nid) == 1:
                raise MeshlinkError(f"dependency cycle: {' -> '.join((*trail, nid))}")
            state[nid] = 1
            for dep in self.nodes[nid].depends_on:
                visit(dep, (*trail, nid))
            state[nid] = 2
            order.append(nid)

        for nid in self.nodes:
            visit(nid, ())
        return order

    def critical_path(self) -> list[str]:
        """The longest chain of dependencies (what wall time approaches)."""
        longest: dict[str, list[str]] = {}
        for nid in self.topological_order():
            deps = [longest[d] for d in self.nodes[nid].depends_on]
            longest[nid] = [*max(deps, key=len, default=[]), nid]
        return max(longest.values(), key=len, default=[])

    def select(self, kinds: set[str]) -> DeploymentGraph:
        """The sub-graph of `kinds`, dependencies outside it dropped (already deployed)."""
        sub = DeploymentGraph()
        for node in self:
            if node.kind in kinds:
                deps = tuple(d for d in node.depends_on if self.nodes[d].kind in kinds)
                sub.add(Node(node.kind, node.subject, node.account, deps))
        return sub


def plan_graph(topology: Topology) -> DeploymentGraph:
    """The deployment graph of `topology` (see docs/ARCHITECTURE.md)."""
    graph = DeploymentGraph()
    # With a shared network only its owner has a network node; every account's stacks
    # then depend on that one (topology.network_account).
    for account in topology.network_accounts():
        graph.add(Node("network", account, account))
    for account in topology.accounts:
        network = node_id("network", topology.network_account(account))
        graph.add(Node("platform", account, account, (network,)))
    for name, service in topology.services.items():
        network = node_id("network", topology.network_account(service.account))
        edge = node_id("edge", name)
        internal_peers = [p for p in service.consumes if p in topology.services]
        graph.add(Node("edge", name, service.account, (network,)))
        if not service.consumes:
            continue  # nothing to consume: no endpoints stack (a stack needs a resource)
        graph.add(
            Node(
                "endpoints",
                name,
                # The VPC's owner: a participant of a shared VPC cannot create endpoints.
                topology.endpoints_account(name),
                (network, edge, *(node_id("edge", p) for p in internal_peers)),
            )
        )
    for name, service in topology.services.items():
        consumers = topology.consumers_of(name)
        if not consumers:
            continue  # consumed by no one: no endpoint service to accept connections on
        graph.add(
            Node(
                "accept",
                name,
                service.account,
                (node_id("edge", name), *(node_id("endpoints", c) for c in consumers)),
            )
        )
    for name, service in topology.services.items():
        internal_peers = [p for p in service.consumes if p in topology.services]
        graph.add(
            Node(
                "service",
                name,
                service.account,
                (
                    node_id("platform", service.account),
                    node_id("network", topology.network_account(service.account)),
                    node_id("edge", name),
                    *((node_id("endpoints", name),) if service.consumes else ()),
                    *(node_id("accept", p) for p in internal_peers),
                ),
            )
        )
    if topology.dashboard:
        _add_dashboard(graph, topology)
    graph.topological_order()  # proves it is acyclic
    return graph


def _add_dashboard(graph: DeploymentGraph, topology: Topology) -> None:
    graph.add(
        Node(
            "dashboard",
            topology.name,
            dashboard_account(topology),
            (
                node_id("platform", dashboard_account(topology)),
                *(node_id("edge", s) for s in topology.services if topology.consumers_of(s)),
            ),
        )
    )


def dashboard_account(topology: Topology) -> str:
    """The account (key) that holds the mesh's one CloudWatch dashboard: the first."""
    return next(iter(topology.accounts))
