"""Repair a drifted node before `up` deploys it: one targeted call per finding, or the
node's stack deleted so that `up` makes it again. One repair per finding kind, in a table.

After its repairs the node's fingerprint is forgotten, so its handler deploys the stack
again (a change set with no changes when the template did not move): that re-asserts
what CloudFormation manages, and a service node waits for its tasks as after any deploy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from meshlink.deploy.drift.model import Finding
from meshlink.deploy.handlers.context import NodeContext
from meshlink.deploy.handlers.model import Progress
from meshlink.errors import DeployError
from meshlink.graph.planner import Node

Repair = Callable[[NodeContext, Node, Finding, Progress], None]


def _ec2(ctx: NodeContext, finding: Finding) -> Any:
    return ctx.client(str(finding.args["account"]), "ec2")


def _principals(change: str) -> Repair:
    def repair(ctx: NodeContext, node: Node, finding: Finding, progress: Progress) -> None:
        _ec2(ctx, finding).modify_vpc_endpoint_service_permissions(
            ServiceId=finding.args["service_id"], **{change: [finding.args["principal"]]}
        )

    return repair


def _acceptance(ctx: NodeContext, node: Node, finding: Finding, progress: Progress) -> None:
    _ec2(ctx, finding).modify_vpc_endpoint_service_configuration(
        ServiceId=finding.args["service_id"], AcceptanceRequired=finding.args["required"]
    )


def permission(grant: dict[str, Any]) -> dict[str, Any]:
    """A flattened grant (verify.control_network.grants) as one IpPermissions entry."""
    entry: dict[str, Any] = {"IpProtocol": grant["protocol"]}
    if grant.get("from_port") is not None:
        entry["FromPort"] = grant["from_port"]
        entry["ToPort"] = grant["to_port"]
    if grant.get("source_group"):
        entry["UserIdGroupPairs"] = [{"GroupId": grant["source_group"]}]
    elif grant.get("prefix_list"):
        entry["PrefixListIds"] = [{"PrefixListId": grant["prefix_list"]}]
    elif ":" in str(grant.get("cidr", "")):
        entry["Ipv6Ranges"] = [{"CidrIpv6": grant["cidr"]}]
    else:
        entry["IpRanges"] = [{"CidrIp": grant["cidr"]}]
    return entry


def _rule(call: str) -> Repair:
    def repair(ctx: NodeContext, node: Node, finding: Finding, progress: Progress) -> None:
        getattr(_ec2(ctx, finding), call)(
            GroupId=finding.args["group"], IpPermissions=[permission(finding.args["grant"])]
        )

    return repair


def _connection(call: str) -> Repair:
    def repair(ctx: NodeContext, node: Node, finding: Finding, progress: Progress) -> None:
        answer = getattr(_ec2(ctx, finding), call)(
            ServiceId=finding.args["service_id"], VpcEndpointIds=[finding.args["endpoint_id"]]
        )
        failed = answer.get("Unsuccessful") or []
        if failed:
            error = failed[0].get("Error", {})
            raise DeployError(
                f"{finding.what}: {error.get('Message') or error.get('Code')}",
                hint="run `meshlink up` again; `meshlink up --no-repair` leaves drift alone",
            )

    return repair


def _desired_count(ctx: NodeContext, node: Node, finding: Finding, progress: Progress) -> None:
    ctx.client(str(finding.args["account"]), "ecs").update_service(
        cluster=finding.args["cluster"],
        service=finding.args["service"],
        desiredCount=finding.args["desired"],
    )


def _recreate(ctx: NodeContext, node: Node, finding: Finding, progress: Progress) -> None:
    name = ctx.stack_name(node)
    progress(f"deleting {name} to make it again")
    ctx.deployer(node.account, progress).delete(name)


REPAIRS: dict[str, Repair] = {
    "principal-added": _principals("RemoveAllowedPrincipals"),
    "principal-missing": _principals("AddAllowedPrincipals"),
    "acceptance-required": _acceptance,
    "rule-added": _rule("revoke_security_group_ingress"),
    "rule-missing": _rule("authorize_security_group_ingress"),
    "connection-rejected": _connection("accept_vpc_endpoint_connections"),
    "connection-unexpected": _connection("reject_vpc_endpoint_connections"),
    "desired-count": _desired_count,
    "recreate": _recreate,
}


def repair_node(
    ctx: NodeContext, node: Node, findings: Sequence[Finding], progress: Progress
) -> str:
    """Repair the node's findings (a stack to make again makes every call moot); what
    was done, for the node's outcome."""
    recreate = [f for f in findings if f.how == "recreate"]
    todo = recreate[:1] if recreate else list(findings)
    for finding in todo:
        progress(f"repairing drift: {finding.what}")
        REPAIRS[finding.kind](ctx, node, finding, progress)
    ctx.journal.update(node.id, fingerprint=None)
    how = "stack made again" if recreate else f"{len(todo)} call{'s' if len(todo) != 1 else ''}"
    return f"repaired {'; '.join(f.what for f in findings)} ({how})"
