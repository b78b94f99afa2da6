"""accept nodes: the provider accepts exactly its consumers' endpoint connections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshlink.deploy.acceptance import reconcile_connections
from meshlink.deploy.handlers.context import NodeContext
from meshlink.deploy.handlers.model import Drift, Edge, NodePlan, Progress, provider_edges
from meshlink.graph.executor import Outcome
from meshlink.graph.planner import Node, node_id
from meshlink.topology.model import Topology


class AcceptHandler:
    """An `accept:<service>` node: no stack, a reconciliation of endpoint connections."""

    kind = "accept"

    def plan(self, ctx: NodeContext, node: Node) -> NodePlan:
        consumers = ctx.topology.consumers_of(node.subject)
        return NodePlan(
            node.id,
            "reconcile",
            f"accept {len(consumers)} expected connection(s), reject any other",
        )

    def up(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        from meshlink.stacks.outputs import EdgeOutputs, EndpointsOutputs

        provider = node.subject
        service_id = str(ctx.outputs_of(node_id("edge", provider))[EdgeOutputs.SERVICE_ID])
        expected = {
            str(
                ctx.outputs_of(node_id("endpoints", consumer))[
                    EndpointsOutputs.endpoint_id(provider)
                ]
            ): consumer
            for consumer in ctx.topology.consumers_of(provider)
        }
        ec2 = ctx.client(node.account, "ec2")
        result = reconcile_connections(ec2, service_id, expected, progress=progress)
        detail = f"{len(expected)} expected available"
        if result.accepted:
            detail += f", accepted {len(result.accepted)}"
        if result.rejected:
            detail += f", rejected {len(result.rejected)} unexpected"
        changed = bool(result.accepted or result.rejected)
        return Outcome("done" if changed else "unchanged", detail, result.as_outputs())

    def down(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        return Outcome("done", "connections go with the endpoints")

    def live_outputs(self, ctx: NodeContext, node: Node) -> Mapping[str, Any] | None:
        # Connections are reconciled on every `up`, never recorded from what is live.
        return None

    def drift(self, ctx: NodeContext, node: Node) -> Drift:
        # No stack: the connections' live states are the edges' (status shows them).
        return Drift(node.id, None, None, ctx.journal.get(node.id).status)

    def deployed_stack(self, node: Node, mesh: str, engine: str | None) -> str | None:
        return None

    def affected_edges(self, topology: Topology, node: Node) -> tuple[Edge, ...]:
        return provider_edges(topology, node)
