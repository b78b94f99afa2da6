"""Wait (bounded) for a mesh that is still converging before judging it.

Checking a deployment in progress proves nothing: a task that has not passed its first
health checks yet would fail the target and traffic checks of a mesh that is fine a
few seconds later. On AWS, CloudFormation returns from an ECS service only once it is
stable, so this rarely waits; the local cloud's `up` returns as soon as the service
exists. Only *transient* states are waited for (a deployment in progress, targets in
their first health checks, a desired count the scheduler has not met yet while no task
failed, running tasks not yet registered as targets): anything else is for the checks to
judge.

Each round reads the whole mesh in a few batched calls (one DescribeServices per cluster
and ten services, one DescribeVpcEndpointConnections per account, one DescribeTargetHealth
per target group), accounts side by side; the last round's services, target health and
connections are kept for the checks that read the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from meshlink.deadlines import pauses, timed_out
from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import EdgeOutputs, PlatformOutputs, ServiceOutputs
from meshlink.verify.context import VerifyContext, is_not_found

T = TypeVar("T")
# Target states that change on their own within a couple of health-check intervals.
TRANSIENT_TARGET_STATES = frozenset({"initial"})
ECS_BATCH = 10  # DescribeServices takes at most 10 services per call


@dataclass
class Reads:
    """One round of the answers settling looks at, per service (None: nothing to read)."""

    services: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    health: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict)
    connections: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def _ecs_services(ctx: VerifyContext) -> dict[str, dict[str, Any] | None]:
    """Every service's ECS description: one DescribeServices per cluster and ten services."""
    wanted: dict[tuple[str, str], dict[str, str]] = {}  # (account, cluster) -> arn -> service
    for service in ctx.topology.services:
        account = ctx.account_of(service)
        arn = ctx.outputs(node_id("service", service)).get(ServiceOutputs.ECS_SERVICE_ARN)
        cluster = ctx.outputs(node_id("platform", account)).get(PlatformOutputs.CLUSTER_NAME)
        if arn and cluster:
            wanted.setdefault((account, str(cluster)), {})[str(arn)] = service
    found: dict[str, dict[str, Any] | None] = {}
    for (account, cluster), by_arn in wanted.items():
        arns = list(by_arn)
        for start in range(0, len(arns), ECS_BATCH):
            try:
                answer = ctx.client(account, "ecs").describe_services(
                    cluster=cluster, services=arns[start : start + ECS_BATCH]
                )
            except Exception as error:
                if is_not_found(error):
                    continue  # the cluster is gone: the checks will say so
                raise
            for svc in answer.get("services") or []:
                if svc.get("serviceArn") in by_arn:
                    found[by_arn[svc["serviceArn"]]] = dict(svc)
    return found


def _target_health(ctx: VerifyContext, service: str) -> list[dict[str, Any]] | None:
    group = ctx.edge_output(service, EdgeOutputs.TARGET_GROUP_ARN)
    if not group:
        return None
    elbv2 = ctx.client(ctx.account_of(service), "elbv2")
    try:
        answer = elbv2.describe_target_health(TargetGroupArn=group)
    except Exception as error:
        if is_not_found(error):
            return None  # gone: the checks will say so
        raise
    return list(answer["TargetHealthDescriptions"])


def _connections(ctx: VerifyContext) -> dict[str, dict[str, dict[str, Any]]]:
    """Every provider's endpoint connections: one paginated call per account."""
    from meshlink.deploy.drift.detect import connections_of

    by_account: dict[str, dict[str, str]] = {}
    for service in ctx.topology.services:
        service_id = ctx.service_id(service)
        if service_id and ctx.expected_endpoints(service):
            by_account.setdefault(ctx.account_of(service), {})[service_id] = service
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for account, services in by_account.items():
        every = connections_of(ctx.client(account, "ec2"), list(services))
        for service_id, service in services.items():
            found[service] = every.get(service_id, {})
    return found


def read_round(ctx: VerifyContext) -> Reads:
    """Fresh answers (never cached), the accounts' reads side by side."""
    services = list(ctx.topology.services)
    workers = max(1, min(ctx.options.concurrency, len(services) + 2))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="settle") as pool:
        ecs = pool.submit(_ecs_services, ctx)
        connections = pool.submit(_connections, ctx)
        health = dict(
            zip(services, pool.map(lambda s: _target_health(ctx, s), services), strict=True)
        )
        return Reads(ecs.result(), health, connections.result())


def _deploying(reads: Reads, service: str) -> str | None:
    svc = reads.services.get(service)
    if not svc or svc.get("status") != "ACTIVE":
        return None
    deployments = svc.get("deployments") or []
    rolling = any(d.get("rolloutState") == "IN_PROGRESS" for d in deployments)
    running, desired = svc.get("runningCount") or 0, svc.get("desiredCount") or 0
    if rolling or svc.get("pendingCount"):
        return f"{service}: deployment in progress ({running}/{desired} running)"
    # A desired count just raised (UpdateService): the scheduler has not placed the tasks
    # yet (nothing pending). Starting, unless a task of the deployment already failed:
    # then it is for service.ecs to judge, not for settling to wait on.
    primary = [d for d in deployments if d.get("status") == "PRIMARY"]
    failed = sum(int(d.get("failedTasks") or 0) for d in primary)
    if running < desired and not failed:
        return f"{service}: {running}/{desired} tasks running, more starting"
    return None


def _registering(reads: Reads, service: str) -> str | None:
    """Running tasks not yet targets of the service's target group: ECS registers a task
    once it runs, so a read can catch one before the other (reads of a round are side by
    side, too)."""
    svc, health = reads.services.get(service), reads.health.get(service)
    if not svc or health is None or svc.get("status") != "ACTIVE":
        return None
    registered = sum(1 for h in health if h["TargetHealth"]["State"] != "draining")
    running = int(svc.get("runningCount") or 0)
    if registered < running:
        return f"{service}: {registered} of {running} running task(s) registered as targets"
    return None


def _first_health_checks(reads: Reads, service: str) -> str | None:
    health = reads.health.get(service) or []
    waiting = [h for h in health if h["TargetHealth"]["State"] in TRANSIENT_TARGET_STATES]
    if waiting:
        return f"{service}: {len(waiting)} target(s) in their first health checks"
    return None


def _connections_pending(ctx: VerifyContext, reads: Reads, service: str) -> str | None:
    """Connections on their way to `available` by themselves (accepted, not yet ready)."""
    current = reads.connections.get(service)
    if current is None:
        return None
    expected = ctx.expected_endpoints(service)
    pending = sorted(
        expected[e] for e in expected if current.get(e, {}).get("VpcEndpointState") == "pending"
    )
    if pending:
        return f"{service}: connection(s) from {', '.join(pending)} pending"
    return None


def unsettled(ctx: VerifyContext, reads: Reads | None = None) -> list[str]:
    """What is still converging, one line per service (a fresh round of reads unless
    `reads` is given)."""
    reads = reads if reads is not None else read_round(ctx)
    reasons: list[str] = []
    for service in ctx.topology.services:
        for reason in (
            _deploying(reads, service),
            _registering(reads, service),
            _first_health_checks(reads, service),
            _connections_pending(ctx, reads, service),
        ):
            if reason:
                reasons.append(reason)
    return reasons


def _keep(ctx: VerifyContext, reads: Reads) -> None:
    """The last round's answers, for the checks that read the same (they are as fresh as
    any the checks would make now)."""
    for service, connections in reads.connections.items():
        ctx.memo(("connections", service), partial(_same, connections))
    for service, svc in reads.services.items():
        ctx.memo(("ecs-service", service), partial(_same, svc))
    for service, health in reads.health.items():
        if health is not None:
            ctx.memo(("target-health", service), partial(_same, health))


def _same(value: T) -> T:
    return value


def settle(
    ctx: VerifyContext,
    timeout: float | None,
    notice: Callable[[str], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Wait up to `timeout` seconds (None: the run's "settle" deadline) until nothing is
    converging; what still is, if any (said in a notice: the checks then judge it)."""
    if timeout is not None and timeout <= 0:
        return []  # --settle-timeout 0: check at once
    deadlines = ctx.runtime.deadlines
    limit = deadlines.seconds("settle") if timeout is None else timeout
    deadline = clock() + limit
    reads = read_round(ctx)
    reasons = unsettled(ctx, reads)
    said: list[str] = []
    waits = pauses(0.25, deadlines.poll_max)
    while reasons and clock() < deadline:
        if reasons != said:  # a line per change, not per poll
            notice("waiting for the mesh to settle: " + "; ".join(reasons))
            said = reasons
        sleep(next(waits))
        reads = read_round(ctx)
        reasons = unsettled(ctx, reads)
    _keep(ctx, reads)
    if reasons:
        notice(timed_out("the mesh to settle", limit, "; ".join(reasons)) + "; checking it as is")
    return reasons
