"""Wait (bounded) for a mesh that is still converging before judging it.

Checking a deployment in progress proves nothing: a task that has not passed its first
health checks yet would fail the target and traffic checks of a mesh that is fine a
few seconds later. On AWS, CloudFormation returns from an ECS service only once it is
stable, so this rarely waits; the local cloud's `up` returns as soon as the service
exists. Only *transient* states are waited for (a deployment in progress, targets in
their first health checks): anything else is for the checks to judge.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from meshlink.deadlines import timed_out
from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import EdgeOutputs, PlatformOutputs, ServiceOutputs
from meshlink.verify.context import VerifyContext

# Target states that change on their own within a couple of health-check intervals.
TRANSIENT_TARGET_STATES = frozenset({"initial"})


def _deploying(ctx: VerifyContext, service: str) -> str | None:
    account = ctx.account_of(service)
    arn = ctx.outputs(node_id("service", service)).get(ServiceOutputs.ECS_SERVICE_ARN)
    cluster = ctx.outputs(node_id("platform", account)).get(PlatformOutputs.CLUSTER_NAME)
    if not arn or not cluster:
        return None
    found = ctx.client(account, "ecs").describe_services(cluster=cluster, services=[arn])
    services: list[dict[str, Any]] = found.get("services") or []
    if not services or services[0].get("status") != "ACTIVE":
        return None
    svc = services[0]
    rolling = any(d.get("rolloutState") == "IN_PROGRESS" for d in svc.get("deployments") or [])
    if rolling or svc.get("pendingCount"):
        return (
            f"{service}: deployment in progress "
            f"({svc.get('runningCount')}/{svc.get('desiredCount')} running)"
        )
    return None


def _first_health_checks(ctx: VerifyContext, service: str) -> str | None:
    group = ctx.edge_output(service, EdgeOutputs.TARGET_GROUP_ARN)
    if not group:
        return None
    elbv2 = ctx.client(ctx.account_of(service), "elbv2")
    health = elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    waiting = [h for h in health if h["TargetHealth"]["State"] in TRANSIENT_TARGET_STATES]
    if waiting:
        return f"{service}: {len(waiting)} target(s) in their first health checks"
    return None


def _connections_pending(ctx: VerifyContext, service: str) -> str | None:
    """Connections on their way to `available` by themselves (accepted, not yet ready)."""
    from meshlink.deploy.acceptance import connections

    service_id = ctx.service_id(service)
    expected = ctx.expected_endpoints(service)
    if not service_id or not expected:
        return None
    current = connections(ctx.client(ctx.account_of(service), "ec2"), service_id)
    pending = sorted(
        expected[e] for e in expected if current.get(e, {}).get("VpcEndpointState") == "pending"
    )
    if pending:
        return f"{service}: connection(s) from {', '.join(pending)} pending"
    return None


def unsettled(ctx: VerifyContext) -> list[str]:
    """What is still converging, one line per service (fresh API calls, never cached)."""
    from meshlink.verify.context import is_not_found

    reasons: list[str] = []
    for service in ctx.topology.services:
        for probe in (_deploying, _first_health_checks, _connections_pending):
            try:
                reason = probe(ctx, service)
            except Exception as error:
                if is_not_found(error):
                    continue  # gone: the checks will say so
                raise
            if reason:
                reasons.append(reason)
    return reasons


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
    reasons = unsettled(ctx)
    said: list[str] = []
    delay = min(0.25, deadlines.poll_max)
    while reasons and clock() < deadline:
        if reasons != said:  # a line per change, not per poll
            notice("waiting for the mesh to settle: " + "; ".join(reasons))
            said = reasons
        sleep(delay)
        delay = min(delay * 1.5, deadlines.poll_max)
        reasons = unsettled(ctx)
    if reasons:
        notice(timed_out("the mesh to settle", limit, "; ".join(reasons)) + "; checking it as is")
    return reasons
