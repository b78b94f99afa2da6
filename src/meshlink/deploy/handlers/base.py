"""The one interface every node kind implements (docs/ARCHITECTURE.md, "node kinds")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from meshlink.deploy.handlers.context import NodeContext
from meshlink.deploy.handlers.model import Drift, Edge, NodePlan, Progress
from meshlink.graph.executor import Outcome
from meshlink.graph.planner import Node
from meshlink.topology.model import Topology


class NodeHandler(Protocol):
    """What plan, up, down, status, journal rebuild and verify do with one kind of node.

    Handlers hold no run state: everything of the run comes in through `ctx`.
    """

    kind: str

    def plan(self, ctx: NodeContext, node: Node) -> NodePlan:
        """What `up` would do to the node; changes nothing."""
        ...

    def up(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        """Deploy the node (or find it unchanged); its outputs go to the journal."""
        ...

    def down(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        """Delete the node; deleting what is not there is fine."""
        ...

    def live_outputs(self, ctx: NodeContext, node: Node) -> Mapping[str, Any] | None:
        """The outputs of the node as deployed and healthy now; None when it is not."""
        ...

    def drift(self, ctx: NodeContext, node: Node) -> Drift:
        """How the node's live state differs from the journal's record of it."""
        ...

    def deployed_stack(self, node: Node, mesh: str, engine: str | None) -> str | None:
        """The CloudFormation stack the node was deployed as, given the engine that
        deployed the networks (the journal's; None when unknown); None for no stack."""
        ...

    def affected_edges(self, topology: Topology, node: Node) -> tuple[Edge, ...]:
        """The edges whose traffic depends on this node being healthy."""
        ...
