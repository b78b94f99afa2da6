"""network nodes: each account's VPC, through whichever network engine the mesh uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshlink.deploy.handlers.context import NodeContext
from meshlink.deploy.handlers.model import (
    APPLIED,
    Action,
    Drift,
    Edge,
    NodePlan,
    Progress,
    account_edges,
    differences,
)
from meshlink.deploy.handlers.stack import plan_from_stack_plan, stack_drift
from meshlink.engines.network_contract import contract_outputs
from meshlink.engines.network_engine import NetworkPlan, ResourceDriftReader, stack_backed
from meshlink.errors import DeployError, MeshlinkError
from meshlink.fingerprint import fingerprint
from meshlink.graph.executor import Outcome
from meshlink.graph.planner import Node
from meshlink.topology.model import Topology


class NetworkHandler:
    """A `network:<account>` node: the engine plans, applies, destroys and reads it."""

    kind = "network"

    def plan(self, ctx: NodeContext, node: Node) -> NodePlan:
        """What `up` will do: skipped on the same test; otherwise it applies, even when the
        engine sees no resource change (then the plan says so: a re-apply)."""
        skipped = ctx.unchanged(node, _digest(ctx, node), lambda: self.live_outputs(ctx, node))
        drifted = resource_drift(ctx, node) if skipped else []
        if skipped and not drifted:
            return NodePlan(node.id, "unchanged", "fingerprint matches", outputs=skipped.outputs)
        result = ctx.network_engine.plan(node.account)
        planned = _plan_of(node, result)
        if planned.action == "create":
            return planned
        notes = [planned.detail] if planned.action != "unchanged" else []
        if drifted:
            notes.append("drift: " + "; ".join(drifted))
        elif planned.action == "unchanged":
            notes.append("re-apply: no resource changes (network code or settings changed)")
        action: Action = "update" if planned.action == "unchanged" else planned.action
        # Its outputs (VPC, subnets) stay unless resources come, go or are replaced.
        keeps = not _moves_resources(result)
        outputs = self.live_outputs(ctx, node) if keeps else None
        return NodePlan(
            node.id,
            action,
            "; ".join(filter(None, notes)),
            planned.changes,
            outputs=dict(outputs) if outputs is not None else None,
        )

    def up(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        engine = ctx.network_engine
        digest = _digest(ctx, node)
        skipped = ctx.unchanged(node, digest, lambda: self.live_outputs(ctx, node))
        drifted = resource_drift(ctx, node) if skipped else []
        if skipped and not drifted:
            return skipped
        if drifted:
            progress("repairing drift: " + "; ".join(drifted))
        progress(f"applying with {engine.name}")
        outputs = dict(engine.apply(node.account))
        ctx.journal.update(node.id, fingerprint=digest, parameters={"engine": engine.name})
        repaired = f", repaired {len(drifted)} drifted" if drifted else ""
        participants = ctx.topology.shared_with(node.account)
        shared = f", subnets shared with {len(participants)} accounts" if participants else ""
        return Outcome("done", f"network via {engine.name}{repaired}{shared}", outputs)

    def down(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        engine = ctx.network_engine
        progress(f"destroying with {engine.name}")
        if not _removed_anything(engine.destroy(node.account)):
            return Outcome("unchanged", "not deployed: nothing to delete")
        return Outcome("done", "network destroyed")

    def live_outputs(self, ctx: NodeContext, node: Node) -> Mapping[str, Any] | None:
        engine = ctx.network_engine
        # A stack-backed network counts only while its stack is healthy, and its outputs
        # are that stack's (the run's one read of the account's stacks, not another).
        if engine.stack_backed:
            stack = ctx.live_stack_outputs(node)
            try:
                return None if stack is None else dict(contract_outputs(stack))
            except KeyError:
                return None
        try:
            return dict(engine.outputs(node.account))
        except (DeployError, KeyError):
            return None

    def drift(self, ctx: NodeContext, node: Node) -> Drift:
        if ctx.network_engine.stack_backed:
            return stack_drift(ctx, node, ctx.stack_name(node))
        try:
            live = APPLIED if ctx.network_engine.outputs(node.account) else None
        except (MeshlinkError, KeyError):
            live = None
        journal = ctx.journal.get(node.id).status
        found = differences(journal, live, what="network state")
        if live is not None:
            found += tuple(resource_drift(ctx, node))
        return Drift(node.id, None, live, journal, found)

    def deployed_stack(self, node: Node, mesh: str, engine: str | None) -> str | None:
        return node.stack_name(mesh) if stack_backed(engine) else None

    def affected_edges(self, topology: Topology, node: Node) -> tuple[Edge, ...]:
        return account_edges(topology, node)


def _digest(ctx: NodeContext, node: Node) -> str:
    """What `up` compares with the journal to skip the network (code, zones, settings)."""
    engine = ctx.network_engine
    topology = ctx.topology
    return fingerprint(
        engine.name,
        engine.code_fingerprint(node.account),
        ctx.runtime.zone_ids(),
        topology.name,
        topology.region,
        topology.network.model_dump(mode="json"),
        topology.accounts[node.account].model_dump(mode="json"),
        # Only a shared network's owner adds this: other networks keep their fingerprint.
        *([topology.shared_with(node.account)] if topology.shared_with(node.account) else []),
    )


def _moves_resources(result: NetworkPlan) -> bool:
    from meshlink.engines.cdk.events import StackPlan

    if isinstance(result, StackPlan):
        return any(c.action in ("Add", "Remove") or c.replaced for c in result.changes)
    return bool(result.add or result.destroy)


def _removed_anything(result: object) -> bool:
    """Whether an engine's destroy deleted something: a change set's DeleteResult says
    `deleted`, Terraform's change summary counts what it destroyed."""
    deleted = getattr(result, "deleted", None)
    if isinstance(deleted, bool):
        return deleted
    destroyed = getattr(result, "destroy", None)
    return destroyed != 0 if isinstance(destroyed, int) else True


def resource_drift(ctx: NodeContext, node: Node) -> list[str]:
    """What of a network outside CloudFormation differs from its engine's state (Terraform).

    A few EC2 reads and the state file: no Terraform command. Stack-backed networks
    have none here; their stack's status is their drift.
    """
    engine = ctx.network_engine
    if not isinstance(engine, ResourceDriftReader):
        return []
    return engine.resource_drift(node.account, ctx.runtime.client(node.account, "ec2"))


def _plan_of(node: Node, result: NetworkPlan) -> NodePlan:
    """Either engine's plan as the node's: a change set, or Terraform's change counts."""
    from meshlink.engines.cdk.events import StackPlan

    if isinstance(result, StackPlan):
        return plan_from_stack_plan(node, result)
    if not result.has_changes:
        return NodePlan(node.id, "unchanged", "terraform: no changes")
    counts = f"+{result.add} ~{result.change} -{result.destroy}"
    action: Action = "create" if not result.change and not result.destroy else "update"
    return NodePlan(node.id, action, f"terraform: {counts}")
