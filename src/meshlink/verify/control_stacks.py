"""Control-plane checks of the deployment itself: every stack healthy, every VPC there."""

from __future__ import annotations

from meshlink.deploy.handlers import HEALTHY, handler_for
from meshlink.graph.planner import Node, node_id, plan_graph
from meshlink.verify.context import VerifyContext, is_not_found
from meshlink.verify.model import CheckResult, CheckSpec, Edge, Subject, Verdict

# The stack works but is not what the last `up` asked for (its update was rolled back).
DEGRADED = frozenset({"UPDATE_ROLLBACK_COMPLETE"})


def node_edges(ctx: VerifyContext, node: Node) -> tuple[Edge, ...]:
    """Edges a node's health decides: what runs in its account, or flows through it."""
    return handler_for(node).affected_edges(ctx.topology, node)


def stack_nodes(ctx: VerifyContext) -> list[tuple[Subject, tuple[Edge, ...]]]:
    """Every graph node deployed as a CloudFormation stack."""
    mesh = ctx.topology.name
    # Networks are stacks unless the journal says an engine without stacks built them.
    engine = ctx.runtime.deployed_engine()
    found = []
    for node in plan_graph(ctx.topology):
        name = handler_for(node).deployed_stack(node, mesh, engine)
        if name is not None:
            found.append((Subject("stack", name, None, None), node_edges(ctx, node)))
    return found


def account_networks(ctx: VerifyContext) -> list[tuple[Subject, tuple[Edge, ...]]]:
    found = []
    for node in plan_graph(ctx.topology).select({"network"}):
        found.append((Subject("account", node.account), node_edges(ctx, node)))
    return found


def _live_stacks(ctx: VerifyContext, account: str) -> dict[str, str]:
    """Status of every stack of this mesh in `account` (one paginated call, cached)."""

    def fetch() -> dict[str, str]:
        from meshlink.deploy.live import mesh_stacks

        return mesh_stacks(ctx.client(account, "cloudformation"), ctx.topology.name)

    return ctx.memo(("stacks", account), fetch)


def _stack_nodes(ctx: VerifyContext) -> dict[str, Node]:
    """Stack name -> its graph node (the graph planned once, not once per check)."""
    mesh = ctx.topology.name

    def plan() -> dict[str, Node]:
        return {n.stack_name(mesh) or n.id: n for n in plan_graph(ctx.topology)}

    return ctx.memo(("stack-nodes",), plan)


def check_stack(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """The node's CloudFormation stack exists and its last operation completed."""
    name = verdict.subject.name
    node = _stack_nodes(ctx)[name]
    status = _live_stacks(ctx, node.account).get(name)
    evidence = {
        "node": node.id,
        "account_id": ctx.topology.accounts[node.account].id,
        "status": status,
        "journal_status": ctx.runtime.journal.get(node.id).status,
    }
    if status is None:
        return verdict.failed(f"stack {name} does not exist", **evidence)
    if status in DEGRADED:
        return verdict("warn", f"{name} is {status}: its last update was rolled back", **evidence)
    if status not in HEALTHY:
        return verdict.failed(f"stack is {status}", **evidence)
    return verdict.passed(f"stack is {status}", **evidence)


def check_vpc(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """The account's VPC (from the network outputs, either engine) exists and is available."""
    account = verdict.subject.name
    vpc_id = ctx.outputs(node_id("network", account)).get("vpc_id")
    if not vpc_id:
        return verdict.failed(f"the network of {account} has no recorded VPC")
    ec2 = ctx.client(account, "ec2")
    try:
        vpcs = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    except Exception as error:
        if is_not_found(error):
            return verdict.failed(f"VPC {vpc_id} does not exist", vpc_id=vpc_id)
        raise
    state = vpcs[0].get("State") if vpcs else None
    evidence = {
        "vpc_id": vpc_id,
        "state": state,
        "cidr": vpcs[0].get("CidrBlock") if vpcs else None,
    }
    if state != "available":
        return verdict.failed(f"VPC {vpc_id} is {state}", **evidence)
    return verdict.passed(f"VPC {vpc_id} is available", **evidence)


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "stack.healthy", "control", "every stack of the mesh is healthy", stack_nodes, check_stack
    ),
    CheckSpec(
        "network.vpc", "control", "every account's VPC is available", account_networks, check_vpc
    ),
)
