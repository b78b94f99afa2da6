"""Traffic checks: every edge carries the provider's answer; every non-edge carries nothing.

One probe task per consumer (``probes.run_batch``) calls all of that consumer's
endpoints and the NLBs of all its non-edges at once; each check reads its own line.
A non-edge whose two services share a VPC (one account, or a shared network) is also
aimed at one of the provider's tasks directly: inside a VPC only security groups stand
between them, and a task must reach neither another service's NLB nor its tasks.

With ``--deep``, an account outside the allowed principals also tries to create an
endpoint to each provider, and must be refused.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from typing import Any

from meshlink.aws.errors import error_code
from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import EdgeOutputs, PlatformOutputs, ServiceOutputs
from meshlink.verify.context import VerifyContext, expected_principals
from meshlink.verify.control_privatelink import exposed_providers, service_zone_ids
from meshlink.verify.model import CheckResult, CheckSpec, Edge, Status, Subject, Verdict
from meshlink.verify.probes import (
    UNREACHABLE_CODES,
    ProbeRun,
    ProbeTarget,
    private_address,
    run_batch,
)

# What AWS (and the local cloud) answer an account that may not see a service.
REFUSAL_CODES = frozenset({"InvalidServiceName", "UnauthorizedOperation", "AccessDenied"})
# Local target only: an account no mesh uses, for --deep when every mesh account is allowed.
OUTSIDER_ACCOUNT = "999999999999"


@dataclass(frozen=True)
class Precheck:
    """A traffic check decided without probing (no endpoint, nothing to aim at)."""

    status: Status
    message: str
    evidence: dict[str, Any]


def edges_to_probe(ctx: VerifyContext) -> list[tuple[Subject, tuple[Edge, ...]]]:
    return [(Subject.edge(c, p), ((c, p),)) for c, p in ctx.topology.edges()]


def _non_edge_pairs(ctx: VerifyContext) -> list[Edge]:
    edges = set(ctx.topology.edges())
    names = list(ctx.topology.services)
    return [(c, p) for c in names for p in names if c != p and (c, p) not in edges]


def non_edges(ctx: VerifyContext) -> list[tuple[Subject, tuple[Edge, ...]]]:
    """Every ordered pair of distinct meshlink services that is not an edge."""
    return [(Subject.pair(c, p), ()) for c, p in _non_edge_pairs(ctx)]


def positive_target(ctx: VerifyContext, consumer: str, provider: str) -> ProbeTarget | Precheck:
    """What the consumer's probe task calls for edge consumer -> provider, or why nothing."""
    if provider not in ctx.topology.services:
        return Precheck(
            "skipped", f"{provider} is external: its answer is not meshlink's to check", {}
        )
    dns = ctx.endpoint_dns(consumer, provider)
    endpoint = ctx.endpoint(consumer, provider)
    if dns is None or endpoint is None:
        return Precheck(
            "fail",
            f"no endpoint from {consumer} to {provider}: nothing can flow (probe not started)",
            {"endpoint_id": ctx.endpoint_id(consumer, provider)},
        )
    if endpoint.get("State") != "available":
        return Precheck(
            "fail",
            f"endpoint {endpoint['VpcEndpointId']} is {endpoint.get('State')}: "
            "nothing can flow (probe not started)",
            {"endpoint_id": endpoint["VpcEndpointId"], "state": endpoint.get("State")},
        )
    return ProbeTarget(
        "positive", consumer, provider, dns, ctx.topology.port_of(provider), "endpoint"
    )


def _share_a_vpc(ctx: VerifyContext, consumer: str, provider: str) -> bool:
    """Whether both services' tasks live in one VPC (one account, or a shared network)."""
    network = ctx.topology.network_account
    return network(ctx.account_of(consumer)) == network(ctx.account_of(provider))


def running_task_address(ctx: VerifyContext, provider: str) -> str | None:
    """The private address of one of the provider's running tasks (None if it has none)."""

    def fetch() -> str | None:
        account = ctx.account_of(provider)
        cluster = ctx.outputs(node_id("platform", account)).get(PlatformOutputs.CLUSTER_NAME)
        service = ctx.outputs(node_id("service", provider)).get(ServiceOutputs.ECS_SERVICE_NAME)
        if not cluster or not service:
            return None
        ecs = ctx.client(account, "ecs")
        arns = ecs.list_tasks(
            cluster=cluster, serviceName=service, desiredStatus="RUNNING", maxResults=10
        ).get("taskArns", [])
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns).get("tasks", []) if arns else []
        running = [t for t in tasks if t.get("lastStatus") == "RUNNING"]
        return next((a for a in map(private_address, running) if a), None)

    return ctx.memo(("running-task-address", provider), fetch)


def negative_targets(
    ctx: VerifyContext, consumer: str, provider: str
) -> list[ProbeTarget] | Precheck:
    """What the consumer's probe task aims at for non-edge consumer -> provider: its NLB,
    and one of its tasks when they share a VPC; or why there is nothing to aim at."""
    port = ctx.topology.services[provider].port
    targets: list[ProbeTarget] = []
    why: Precheck | None = None
    if not ctx.topology.consumers_of(provider):
        why = Precheck(
            "skipped",
            f"{provider} is consumed by no one: it has no NLB or endpoint service to aim at",
            {},
        )
    else:
        dns = ctx.edge_output(provider, EdgeOutputs.LOAD_BALANCER_DNS_NAME)
        if dns is None:
            why = Precheck("skipped", f"{provider} has no recorded NLB to aim at", {})
        else:
            targets.append(ProbeTarget("negative", consumer, provider, dns, port, "nlb"))
    if _share_a_vpc(ctx, consumer, provider):
        address = running_task_address(ctx, provider)
        if address is not None:
            targets.append(ProbeTarget("negative", consumer, provider, address, port, "tasks"))
    # Nothing probed, nothing claimed: service.task-security-group proves what its tasks admit.
    return targets if targets or why is None else why


def probe_targets(ctx: VerifyContext, consumer: str) -> list[ProbeTarget]:
    """Everything `consumer`'s probe task calls: its endpoints, then its non-edges' NLBs
    (and tasks, in its own VPC)."""
    planned = [positive_target(ctx, c, p) for c, p in ctx.topology.edges() if c == consumer]
    found = [target for target in planned if isinstance(target, ProbeTarget)]
    for c, p in _non_edge_pairs(ctx):
        negative = negative_targets(ctx, c, p) if c == consumer else []
        if isinstance(negative, list):
            found.extend(negative)
    return found


def probe(ctx: VerifyContext, target: ProbeTarget) -> ProbeRun:
    """The target's result from its consumer's probe task (run once, on first need)."""
    consumer = target.consumer
    batch = ctx.memo(
        ("probe-task", consumer), lambda: run_batch(ctx, consumer, probe_targets(ctx, consumer))
    )
    found = batch.get(target.name)
    if found is None:  # planned differently from the task's list: cannot happen by design
        return ProbeRun("not-started", stopped_reason="not among its probe task's targets")
    return found


def start_probes(ctx: VerifyContext, pool: Executor) -> list[Future[list[ProbeTarget]]]:
    """Start every consumer's probe task at once (the checks then collect the results)."""

    def one(consumer: str) -> list[ProbeTarget]:
        targets = probe_targets(ctx, consumer)
        if targets:
            probe(ctx, targets[0])
        return targets

    return [pool.submit(one, consumer) for consumer in ctx.topology.services]


def check_positive(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """The consumer's probe through its endpoint gets 200 with the provider's own name."""
    consumer, provider = str(verdict.subject.consumer), str(verdict.subject.provider)
    target = positive_target(ctx, consumer, provider)
    if isinstance(target, Precheck):
        return verdict(target.status, target.message, **target.evidence)
    spec = target.spec()
    run = probe(ctx, target)
    evidence = run.evidence(spec)
    if run.exit_code == 0:
        return verdict.passed(f"{provider} answered {consumer} through its endpoint", **evidence)
    detail = run.stopped_reason if run.exit_code is None else f"exit {run.exit_code}"
    message = f"probe {run.outcome} ({detail})"
    if run.refusal:
        message += f"; the local cloud refused it: {run.refusal}"
    return verdict.failed(message, **evidence)


AIMED_AT = {"nlb": "NLB", "tasks": "tasks directly", "endpoint": "endpoint"}


def check_negative(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """Probes from the consumer's network at the provider's NLB (and, in one VPC, at one of
    its tasks) must not get an answer."""
    consumer, provider = str(verdict.subject.consumer), str(verdict.subject.provider)
    targets = negative_targets(ctx, consumer, provider)
    if isinstance(targets, Precheck):
        return verdict(targets.status, targets.message, **targets.evidence)
    runs = [(target, probe(ctx, target)) for target in targets]
    probed = [{"via": t.via, **run.evidence(t.spec())} for t, run in runs]
    # The first target's evidence at the top (the NLB's, when there is one); all in `probed`.
    evidence = {**runs[0][1].evidence(runs[0][0].spec()), "probed": probed}
    reached = [(t, run) for t, run in runs if run.exit_code not in UNREACHABLE_CODES]
    answered = [(t, run) for t, run in reached if run.exit_code is not None]
    if answered:
        where = ", ".join(f"{AIMED_AT[t.via]} ({run.outcome})" for t, run in answered)
        return verdict.failed(f"{consumer} reached {provider}'s {where}", **evidence)
    if reached:
        t, run = reached[0]
        return verdict.failed(
            f"probe at {provider}'s {AIMED_AT[t.via]} did not run "
            f"({run.outcome}: {run.stopped_reason}): isolation unproven",
            **evidence,
        )
    refusals = [run.refusal for _t, run in runs if run.refusal]
    why = f": {refusals[0]}" if refusals else ""
    aimed = " and ".join(AIMED_AT[t.via] for t, _run in runs)
    outcomes = "/".join(sorted({run.outcome for _t, run in runs}))
    message = f"{consumer} cannot reach {provider} at its {aimed} ({outcomes}){why}"
    return verdict.passed(message, **evidence)


def _outsider(ctx: VerifyContext, provider: str) -> tuple[str, str | None] | None:
    """(account id, topology account key or None) of an account the service must refuse."""
    allowed = {p.split(":")[4] for p in expected_principals(ctx.topology, provider)}
    owner = ctx.topology.account_of(provider).id
    for key, account in ctx.topology.accounts.items():
        if account.id not in allowed and account.id != owner:
            return account.id, key
    if ctx.topology.target == "local":
        known = {a.id for a in ctx.topology.accounts.values()}
        candidate = int(OUTSIDER_ACCOUNT)
        while f"{candidate:012d}" in known:
            candidate -= 1
        return f"{candidate:012d}", None
    return None


def _outsider_subnet(
    ctx: VerifyContext, account_id: str, key: str | None, zones: list[str]
) -> tuple[str, str] | None:
    """(vpc id, subnet id) in `account_id` in a zone the service serves."""
    ec2 = ctx.runtime.sessions.client(account_id, "ec2")
    if key is not None:
        network = ctx.network_of(key)
        vpc = str(network.get("vpc_id") or "")
        subnets = list(network.get("private_subnet_ids") or [])
        for subnet, zone in zip(subnets, network.get("az_ids") or [], strict=False):
            if zone in zones and vpc:
                return vpc, str(subnet)
        return None
    # An account outside the mesh (local cloud only): its default VPC will do.
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        return None
    vpc = str(vpcs[0]["VpcId"])
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    for subnet in found:
        if subnet.get("AvailabilityZoneId") in zones:
            return vpc, str(subnet["SubnetId"])
    return None


def check_outsider_refused(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """An account outside the allowed principals cannot create an endpoint to the service."""
    provider = verdict.subject.name
    name = ctx.edge_output(provider, EdgeOutputs.SERVICE_NAME)
    zones = service_zone_ids(ctx, provider, provider) if name else None
    if name is None or zones is None:
        return verdict.failed(f"the endpoint service of {provider} does not exist")
    outsider = _outsider(ctx, provider)
    if outsider is None:
        return verdict.skipped("every account meshlink can act in is an allowed principal")
    account_id, key = outsider
    placement = _outsider_subnet(ctx, account_id, key, zones)
    if placement is None:
        return verdict.skipped(f"account {account_id} has no subnet in {', '.join(zones)}")
    vpc, subnet = placement
    evidence: dict[str, Any] = {"account_id": account_id, "service_name": name, "subnet": subnet}
    ec2 = ctx.runtime.sessions.client(account_id, "ec2")
    try:
        created = ec2.create_vpc_endpoint(
            VpcEndpointType="Interface", VpcId=vpc, ServiceName=name, SubnetIds=[subnet]
        )["VpcEndpoint"]
    except Exception as error:  # botocore ClientError is the expected outcome
        code = error_code(error)
        if not code:
            raise
        evidence["error_code"] = code
        if code in REFUSAL_CODES:
            return verdict.passed(f"account {account_id} was refused ({code})", **evidence)
        return verdict("warn", f"refused, but not for its principal ({code}): {error}", **evidence)
    # The service let a stranger in: take the endpoint down again before reporting it.
    endpoint_id = created["VpcEndpointId"]
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id])
    evidence["created_endpoint"] = endpoint_id
    return verdict.failed(
        f"account {account_id} created endpoint {endpoint_id} (deleted again)", **evidence
    )


def with_likely_causes(results: list[CheckResult]) -> list[CheckResult]:
    """Failed probes that carry no recorded reason name the failed control checks of their edge.

    On AWS nothing records a refused packet; a failed control check bearing on the same
    edge (its endpoint's security group, its NLB's targets, ...) is the likely cause.
    """
    failed_control: dict[Edge, list[CheckResult]] = {}
    for result in results:
        if result.category == "control" and result.status == "fail":
            for edge in result.edges:
                failed_control.setdefault(edge, []).append(result)
    explained: list[CheckResult] = []
    for result in results:
        unexplained = result.check == POSITIVE.id and result.status == "fail"
        causes = [c for edge in result.edges for c in failed_control.get(edge, ())]
        if not (unexplained and causes) or result.evidence.get("refused"):
            explained.append(result)
            continue
        named = "; ".join(f"{c.check} failed ({c.message})" for c in causes)
        explained.append(
            replace(
                result,
                message=f"{result.message}; likely cause: {named}",
                evidence={**result.evidence, "likely_causes": [c.check for c in causes]},
            )
        )
    return explained


POSITIVE = CheckSpec(
    "traffic.positive",
    "traffic",
    "a probe from the consumer's network gets the provider's own answer",
    edges_to_probe,
    check_positive,
)
NEGATIVE = CheckSpec(
    "traffic.negative",
    "traffic",
    "a probe between services that are not an edge gets no answer",
    non_edges,
    check_negative,
)
OUTSIDER = CheckSpec(
    "privatelink.outsider-refused",
    "traffic",
    "an account outside the allowed principals cannot create an endpoint",
    exposed_providers,
    check_outsider_refused,
)
CHECKS: tuple[CheckSpec, ...] = (POSITIVE, NEGATIVE)
DEEP_CHECKS: tuple[CheckSpec, ...] = (OUTSIDER,)
