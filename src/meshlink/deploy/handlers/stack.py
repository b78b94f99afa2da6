"""platform, edge, endpoints and service nodes: one CDK stack each (created by CreateStack,
changed by change set)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from meshlink.deploy.handlers.context import NodeContext
from meshlink.deploy.handlers.model import (
    Change,
    Drift,
    Edge,
    EdgeSelector,
    NodePlan,
    Progress,
    PropertyDiff,
    differences,
)
from meshlink.deploy.handlers.outlook import (
    UnknownUntilApplied,
    list_delta,
    stack_outputs_after,
    touched_by,
)
from meshlink.engines.cdk.events import ResourceChange
from meshlink.errors import DeployError, MeshlinkError
from meshlink.fingerprint import fingerprint
from meshlink.graph.executor import Outcome
from meshlink.graph.parameters import (
    MESH_ZONE_IDS,
    SHARED_ZONE_SUBNETS,
    Resolver,
    fill_parameters,
    parameter_sources,
    shared_zone_subnets,
)
from meshlink.graph.planner import Node, node_id
from meshlink.topology.model import Topology

if TYPE_CHECKING:
    from meshlink.engines.cdk.events import StackPlan


def resolvers(ctx: NodeContext) -> dict[str, Resolver]:
    """Parameters no single upstream output holds (see docs/CONTRACTS.md)."""
    return {
        SHARED_ZONE_SUBNETS: lambda source, outputs_of: _shared_zone_subnets(ctx, source),
        MESH_ZONE_IDS: lambda source, outputs_of: ",".join(ctx.runtime.zone_ids()),
    }


def _shared_zone_subnets(ctx: NodeContext, source: Mapping[str, str]) -> str:
    consumer, provider = source["consumer"], source["provider"]
    # The account that creates the endpoint, in the VPC it owns (a shared VPC's owner).
    consumer_account = ctx.topology.endpoints_account(consumer)
    network = ctx.outputs_of(node_id("network", consumer_account))
    if provider in ctx.topology.services:
        from meshlink.stacks.outputs import EdgeOutputs

        edge = ctx.outputs_of(node_id("edge", provider))
        zones = set(str(edge[EdgeOutputs.ZONE_IDS]).split(","))
    else:
        zones = _external_zone_ids(ctx, consumer_account, provider, network)
    chosen = shared_zone_subnets(network, zones, label=f"{consumer} -> {provider}")
    return ",".join(chosen)


def _external_zone_ids(
    ctx: NodeContext, account: str, provider: str, network: Mapping[str, Any]
) -> set[str]:
    name = ctx.topology.external[provider].service_name
    ec2 = ctx.client(account, "ec2")
    try:
        details = ec2.describe_vpc_endpoint_services(ServiceNames=[name])["ServiceDetails"]
    except Exception as error:  # botocore ClientError: the service is not visible to us
        raise DeployError(
            f"external service {provider} ({name}) is not available to account {account}: {error}",
            hint="ask its owner to allow this account as a principal",
        ) from error
    by_name = dict(zip(network["azs"], network["az_ids"], strict=False))
    zones = {z for d in details for z in d.get("AvailabilityZoneIds", [])}
    return zones or {
        by_name[n] for d in details for n in d.get("AvailabilityZones", []) if n in by_name
    }


def plan_from_stack_plan(node: Node, result: StackPlan) -> NodePlan:
    """A change set's answer (engines/cdk/events.StackPlan) as the node's plan: create,
    replace (a resource is recreated; the detail says which and why), update or unchanged."""
    changes = [_change(c) for c in result.changes]
    if result.unchanged:
        return NodePlan(node.id, "unchanged", "no changes")
    if result.change_type == "CREATE":
        detail = "recreate (stack is in ROLLBACK_COMPLETE)" if result.recreate else ""
        return NodePlan(node.id, "create", detail, changes)
    replaced = [c for c in changes if c.replacement in ("True", "Conditional")]
    if not replaced:
        return NodePlan(node.id, "update", "", changes)
    reasons = [f"{c.logical_id} ({_forced_by(c.replaced_by)})" for c in replaced]
    return NodePlan(node.id, "replace", "replaces " + "; ".join(reasons), changes)


def _forced_by(properties: list[str]) -> str:
    if not properties:
        return "CloudFormation replaces it"
    return f"{', '.join(properties)} require{'s' if len(properties) == 1 else ''} recreation"


def _change(change: ResourceChange) -> Change:
    properties = []
    for d in change.details:
        added, removed = list_delta(d.before, d.after)
        properties.append(
            PropertyDiff(
                d.name,
                d.requires_recreation,
                d.source,
                d.causing_entity,
                d.before,
                d.after,
                added,
                removed,
            )
        )
    return Change(
        change.action,
        change.logical_id,
        change.resource_type,
        change.replacement,
        properties,
        list(change.recreated_by()) if change.replaced else [],
    )


def _outputs(stack: Mapping[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs") or []}


def _changed(stack: Mapping[str, Any], parameters: Mapping[str, str]) -> set[str]:
    """Parameters whose value differs from the deployed stack's."""
    current = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters") or []}
    return {k for k, v in parameters.items() if current.get(k) != v}


def _update_after(
    node: Node, template: Mapping[str, Any], stack: Mapping[str, Any], unknown: UnknownUntilApplied
) -> NodePlan:
    """An update fed by an upstream output only `up` will know: no change set can be
    made yet; outputs that refer to what that parameter reaches change too."""
    sources = parameter_sources(template)
    fed = {
        name
        for name, source in sources.items()
        if source.get("node") == unknown.node
        and (unknown.key is None or source.get("output") == unknown.key)
    } or set(sources)
    reached = touched_by(template, fed)
    known, changing = stack_outputs_after(
        template, _outputs(stack), [ResourceChange("Modify", r, "", "True") for r in reached], fed
    )
    detail = f"after {unknown.node} ({unknown.action}): new value of {', '.join(sorted(fed))}"
    return NodePlan(node.id, "update", detail, outputs=known, changing=changing)


def stack_drift(ctx: NodeContext, node: Node, stack: str) -> Drift:
    """The node's live stack status (this mesh's stacks, read once per account) vs the journal."""
    live = ctx.live_stacks(node.account).get(stack)
    journal = ctx.journal.get(node.id).status
    return Drift(node.id, stack, live, journal, differences(journal, live, what=f"stack {stack}"))


def _additions(template: Mapping[str, Any]) -> list[Change]:
    resources = template.get("Resources", {})
    return [Change("Add", lid, str(spec.get("Type", ""))) for lid, spec in resources.items()]


class StackHandler:
    """A node deployed as one synthesized CloudFormation stack, parameters from upstream."""

    def __init__(self, kind: str, edges: EdgeSelector):
        self.kind = kind
        self._edges = edges

    def _template(self, ctx: NodeContext, node: Node) -> tuple[str, dict[str, Any]]:
        name = ctx.stack_name(node)
        return name, ctx.runtime.synthesized().template(name)

    def plan(self, ctx: NodeContext, node: Node) -> NodePlan:
        """What `up` will do: the same skip test, then the change set of the parameters
        `up` will pass (upstream outputs as they will be once the upstream is applied)."""
        from meshlink.engines.cdk.deployer import stack_tags

        name, template = self._template(ctx, node)
        stack = ctx.live_stack(node)  # the run's one read of the account's stacks
        if stack is None:
            return NodePlan(node.id, "create", "", _additions(template))
        try:
            parameters = fill_parameters(template, ctx.outputs_of, resolvers(ctx))
        except UnknownUntilApplied as unknown:
            return _update_after(node, template, stack, unknown)
        except MeshlinkError as error:  # an upstream neither deployed nor in this run
            return NodePlan(node.id, "update", f"cannot be planned yet: {error.message}")
        skipped = ctx.unchanged(
            node, fingerprint(template, parameters), lambda: ctx.live_stack_outputs(node)
        )
        if skipped:
            return NodePlan(node.id, "unchanged", "fingerprint matches", outputs=skipped.outputs)
        deployer = ctx.deployer(node.account, lambda message: None)
        result = deployer.diff(
            name, template, parameters=parameters, tags=stack_tags(ctx.topology.name, node.id)
        )
        planned = plan_from_stack_plan(node, result)
        live = _outputs(stack)
        if planned.action == "create":
            return planned
        known, changing = stack_outputs_after(
            template, live, result.changes, _changed(stack, parameters)
        )
        return replace(planned, outputs=known, changing=changing)

    def up(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        from meshlink.deploy.estimate import stack_duration
        from meshlink.engines.cdk.deployer import stack_tags

        name, template = self._template(ctx, node)
        parameters = fill_parameters(template, ctx.outputs_of, resolvers(ctx))
        digest = fingerprint(template, parameters)
        skipped = ctx.unchanged(node, digest, lambda: ctx.live_stack_outputs(node))
        if skipped:
            return skipped
        self.prepare(ctx, node, template, progress)
        result = ctx.deployer(node.account, progress).deploy(
            name,
            template,
            parameters=parameters,
            tags=stack_tags(ctx.topology.name, node.id, ctx.topology.identity),
            absent=ctx.live_stack(node) is None,  # the run's listing: no DescribeStacks
            duration=stack_duration(template, ctx.runtime.deadlines.scale),
        )
        if result.outcome == "created":
            ctx.mark_created(node)
        detail = self.settle(ctx, node, result.outputs, progress)
        ctx.journal.update(node.id, fingerprint=digest, parameters=parameters)
        changes = f"{len(result.changes)} changes" if result.changes else "no changes"
        return Outcome(
            "unchanged" if result.outcome == "unchanged" else "done",
            f"{result.outcome} ({changes}){detail}",
            dict(result.outputs),
        )

    def settle(
        self, ctx: NodeContext, node: Node, outputs: Mapping[str, str], progress: Progress
    ) -> str:
        """After the stack is deployed: wait for what it runs; a detail for the outcome."""
        return ""

    def prepare(
        self, ctx: NodeContext, node: Node, template: Mapping[str, Any], progress: Progress
    ) -> None:
        """Before the stack is deployed (and only when it changes): clear its way."""

    def down(self, ctx: NodeContext, node: Node, progress: Progress) -> Outcome:
        result = ctx.deployer(node.account, progress).delete(ctx.stack_name(node))
        if result.deleted:
            return Outcome("done", "deleted")
        return Outcome("unchanged", "was not there")

    def live_outputs(self, ctx: NodeContext, node: Node) -> Mapping[str, Any] | None:
        return ctx.live_stack_outputs(node)

    def drift(self, ctx: NodeContext, node: Node) -> Drift:
        return stack_drift(ctx, node, ctx.stack_name(node))

    def deployed_stack(self, node: Node, mesh: str, engine: str | None) -> str | None:
        return node.stack_name(mesh)

    def affected_edges(self, topology: Topology, node: Node) -> tuple[Edge, ...]:
        return self._edges(topology, node)


class EdgeHandler(StackHandler):
    """The edge stack, whose endpoint service goes when the last consumer does."""

    def prepare(
        self, ctx: NodeContext, node: Node, template: Mapping[str, Any], progress: Progress
    ) -> None:
        # AWS refuses to delete an endpoint service with live connections, and the
        # consumer endpoints that hold them may go later in this run (or as orphans after
        # it): reject them first, as the accept node would reject an unexpected one.
        from meshlink.deploy.acceptance import LIVE_STATES, connections
        from meshlink.stacks.outputs import EdgeOutputs

        resources = template.get("Resources", {}).values()
        if any(r.get("Type") == "AWS::EC2::VPCEndpointService" for r in resources):
            return
        service_id = ctx.journal.get(node.id).outputs.get(EdgeOutputs.SERVICE_ID)
        if not service_id:
            return
        ec2 = ctx.client(node.account, "ec2")
        live = sorted(
            eid
            for eid, c in connections(ec2, str(service_id)).items()
            if c.get("VpcEndpointState") in LIVE_STATES
        )
        if live:
            progress(f"no consumer left: rejecting {', '.join(live)} before the service goes")
            ec2.reject_vpc_endpoint_connections(ServiceId=str(service_id), VpcEndpointIds=live)


class ServiceHandler(StackHandler):
    """The service stack, which `up` also waits for: its tasks run behind healthy targets."""

    def settle(
        self, ctx: NodeContext, node: Node, outputs: Mapping[str, str], progress: Progress
    ) -> str:
        # Also when unchanged: a run cut short while waiting left an updated stack
        # whose tasks were never seen healthy (on a healthy service this returns at once).
        from meshlink.deploy.stability import wait_until_stable
        from meshlink.stacks.outputs import EdgeOutputs, PlatformOutputs, ServiceOutputs

        service = node.subject
        platform = ctx.outputs_of(node_id("platform", node.account))
        edge = ctx.outputs_of(node_id("edge", service))
        return ", " + wait_until_stable(
            ctx.client(node.account, "ecs"),
            ctx.client(node.account, "elbv2"),
            cluster=str(platform[PlatformOutputs.CLUSTER_NAME]),
            service=outputs[ServiceOutputs.ECS_SERVICE_ARN],
            target_group=(
                str(edge[EdgeOutputs.TARGET_GROUP_ARN])
                if EdgeOutputs.TARGET_GROUP_ARN in edge
                else None
            ),
            desired=ctx.topology.services[service].desired_count,
            progress=progress,
            timeout=ctx.runtime.deadlines.seconds("stability"),
            poll_max=ctx.runtime.deadlines.poll_max,
        )
