"""accept nodes: the provider accepts exactly its consumers' endpoint connections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshlink.deploy.acceptance import LIVE_STATES as LIVE
from meshlink.deploy.acceptance import connections, reconcile_connections
from meshlink.deploy.handlers.context import NodeContext
from meshlink.deploy.handlers.model import Drift, Edge, NodePlan, Progress, provider_edges
from meshlink.deploy.handlers.outlook import UnknownUntilApplied
from meshlink.errors import MeshlinkError
from meshlink.graph.executor import Outcome
from meshlink.graph.planner import Node, node_id
from meshlink.topology.model import Topology

PENDING = "pendingAcceptance"


class AcceptHandler:
    """An `accept:<service>` node: no stack, a reconciliation of endpoint connections."""

    kind = "accept"

    def plan(self, ctx: NodeContext, node: Node) -> NodePlan:
        """`reconcile` when `up` will accept or reject a connection, else `unchanged`."""
        provider = node.subject
        try:
            service_id, expected = _expected(ctx, provider)
        except UnknownUntilApplied as unknown:
            return _plan_for_new_endpoints(ctx, node, unknown)
        except MeshlinkError as error:  # an upstream neither deployed nor in this run
            return NodePlan(node.id, "reconcile", f"after upstream changes ({error.message})")
        current = connections(ctx.client(node.account, "ec2"), service_id)
        pending = [e for e in expected if current.get(e, {}).get("VpcEndpointState") == PENDING]
        unexpected = [
            e for e, c in current.items() if e not in expected and c["VpcEndpointState"] in LIVE
        ]
        missing = [e for e in expected if e not in current]
        if not pending and not unexpected and not missing:
            return NodePlan(node.id, "unchanged", f"{len(expected)} expected connection(s)")
        parts = [f"accept {', '.join(expected[e] for e in pending)}"] if pending else []
        if unexpected:
            parts.append(f"reject {len(unexpected)} unexpected")
        if missing:
            parts.append(f"no connection from {', '.join(expected[e] for e in missing)}")
        return NodePlan(node.id, "reconcile", ", ".join(parts))

    def up(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        service_id, expected = _expected(ctx, node.subject)
        ec2 = ctx.client(node.account, "ec2")
        deadlines = ctx.runtime.deadlines
        result = reconcile_connections(
            ec2,
            service_id,
            expected,
            progress=progress,
            timeout=deadlines.seconds("acceptance"),
            poll_max=deadlines.poll_max,
            first=ctx.seen_connections(node, node.subject),
            new=_created_this_run(ctx, node.subject, expected),
        )
        detail = f"{len(expected)} expected available"
        if result.accepted:
            detail += f", accepted {len(result.accepted)}"
        if result.rejected:
            detail += f", rejected {len(result.rejected)} unexpected"
        changed = bool(result.accepted or result.rejected)
        return Outcome("done" if changed else "unchanged", detail, result.as_outputs())

    def down(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        if not ctx.journal.get(node.id).outputs:  # never reconciled (down marks it running)
            return Outcome("unchanged", "not deployed: nothing to delete")
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


def _created_this_run(ctx: NodeContext, provider: str, expected: Mapping[str, str]) -> list[str]:
    """Expected endpoints whose endpoints stack this run created (their connections wait
    for acceptance, when the service requires it; else AWS accepts them by itself)."""
    if not ctx.topology.services[provider].acceptance_required:
        return []
    return [e for e, consumer in expected.items() if ctx.created(node_id("endpoints", consumer))]


def _expected(ctx: NodeContext, provider: str) -> tuple[str, dict[str, str]]:
    """The provider's endpoint service id and its consumers' endpoint ids (id -> consumer)."""
    from meshlink.stacks.outputs import EdgeOutputs, EndpointsOutputs

    service_id = str(ctx.outputs_of(node_id("edge", provider))[EdgeOutputs.SERVICE_ID])
    expected = {
        str(
            ctx.outputs_of(node_id("endpoints", consumer))[EndpointsOutputs.endpoint_id(provider)]
        ): consumer
        for consumer in ctx.topology.consumers_of(provider)
    }
    return service_id, expected


def _plan_for_new_endpoints(ctx: NodeContext, node: Node, unknown: UnknownUntilApplied) -> NodePlan:
    """New endpoints (or a new endpoint service): they wait for acceptance only when the
    service requires it; otherwise they connect by themselves and `up` has nothing to do."""
    because = f"{unknown.node} ({unknown.action})"
    if ctx.topology.services[node.subject].acceptance_required:
        return NodePlan(
            node.id, "reconcile", f"accept the new endpoint connection(s) after {because}"
        )
    return NodePlan(node.id, "unchanged", f"new connections are accepted automatically ({because})")
