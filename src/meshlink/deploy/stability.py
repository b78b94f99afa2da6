"""Wait until an ECS service runs its desired tasks behind healthy targets.

On AWS, CloudFormation returns from an ECS service only once it is stable; the local
cloud returns as soon as the service exists. Waiting here makes `up` mean the same on
both: when it finishes, every task runs and every target is healthy (on AWS the first
look already says so).

The APIs are eventually consistent: right after a create, a describe may not see the
service or its target group yet (NotFound). That is "not visible yet", not a failure,
until the deadline. A task that stops for a reason no retry can cure (its subnets
cannot reach ECR or CloudWatch Logs) ends the wait at once, with ECS's own reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from meshlink.aws.errors import error_code
from meshlink.deadlines import TIMEOUT_HINT, pauses, timed_out
from meshlink.errors import DeployError

# stoppedReason prefixes that ECS would retry forever without success: the task's network
# cannot pull its image or ship its logs. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html
FATAL_STOPS = ("ResourceInitializationError", "CannotPullContainerError")


def _not_visible(error: Exception) -> bool:
    """A describe right after a create: the resource is not visible to reads yet."""
    return error_code(error).endswith(("NotFound", "NotFoundException"))


def _service_state(ecs: Any, cluster: str, service: str) -> tuple[bool, str, dict[str, Any]]:
    try:
        found = ecs.describe_services(cluster=cluster, services=[service]).get("services") or []
    except Exception as error:
        if _not_visible(error):
            return False, "service not visible yet", {}
        raise
    if not found:
        return False, "service not visible yet", {}
    svc: dict[str, Any] = found[0]
    desired, running = svc.get("desiredCount", 0), svc.get("runningCount", 0)
    deployments = svc.get("deployments") or []
    rolling = len(deployments) > 1 or any(
        d.get("rolloutState") == "IN_PROGRESS" for d in deployments
    )
    failed = [d for d in deployments if d.get("rolloutState") == "FAILED"]
    if failed:
        reason = failed[0].get("rolloutStateReason") or "deployment failed"
        # The breaker may trip before a poll sees the stopped task: still name ECS's reason.
        stopped = fatal_stop(ecs, cluster, svc, 0.0)
        if stopped:
            reason = f"{reason} A task stopped: {stopped}"
        raise DeployError(f"ECS service {service}: {reason}", hint="see the tasks' logs")
    steady = running == desired and not svc.get("pendingCount") and not rolling
    return steady, f"{running}/{desired} tasks running", svc


def _targets_state(elbv2: Any, target_group: str, desired: int) -> tuple[bool, str]:
    try:
        health = elbv2.describe_target_health(TargetGroupArn=target_group)
    except Exception as error:
        if _not_visible(error):
            return False, "target group not visible yet"
        raise
    states = [h["TargetHealth"]["State"] for h in health["TargetHealthDescriptions"]]
    healthy = states.count("healthy")
    return healthy >= desired, f"{healthy}/{desired} targets healthy"


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value) if isinstance(value, int | float) else 0.0


def fatal_stop(ecs: Any, cluster: str, svc: dict[str, Any], since: float) -> str | None:
    """The stoppedReason of a task of the service's current deployment, created at or after
    `since` (epoch seconds), that stopped for a reason no retry cures; None if there is none.

    Creation, not stop, time decides: a task launched before a cause was fixed (a secret
    created) may stop well after a new wait began, and says nothing about the fixed state.
    """
    primary = [d for d in svc.get("deployments") or [] if d.get("status") == "PRIMARY"]
    task_definition = primary[0].get("taskDefinition") if primary else svc.get("taskDefinition")
    arns = ecs.list_tasks(
        cluster=cluster, serviceName=svc.get("serviceName", ""), desiredStatus="STOPPED"
    ).get("taskArns", [])
    if not arns:
        return None
    for task in ecs.describe_tasks(cluster=cluster, tasks=arns[:100]).get("tasks", []):
        reason = str(task.get("stoppedReason") or "")
        current = task_definition is None or task.get("taskDefinitionArn") == task_definition
        created = task.get("createdAt") or task.get("startedAt") or task.get("stoppedAt")
        recent = _epoch(created) >= since
        if current and recent and reason.startswith(FATAL_STOPS):
            return reason
    return None


def wait_until_stable(
    ecs: Any,
    elbv2: Any,
    *,
    cluster: str,
    service: str,
    target_group: str | None,
    desired: int,
    progress: Callable[[str], None] = lambda message: None,
    timeout: float,
    poll_max: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
) -> str:
    """Block until the service is steady and its targets (if any) healthy; what was seen last.

    `timeout` comes from the run's Deadlines ("stability"); polls back off to `poll_max`.
    """
    deadline = clock() + timeout
    since = wall()  # a task created before this wait belongs to an earlier attempt
    waits = pauses(0.1, poll_max)
    first = True
    while True:
        try:
            steady, tasks, svc = _service_state(ecs, cluster, service)
        except DeployError as failed:
            if not first:
                raise
            # Failed before this wait began (an earlier `up`): once the circuit breaker
            # trips, ECS launches no more tasks for that deployment
            # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html),
            # and an unchanged stack starts none; the cause may be fixed since (a secret
            # created, an endpoint added): start a new deployment, once.
            progress(f"its last deployment failed ({failed.message}): starting a new one")
            ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
            since = wall()
            first = False
            continue
        first = False
        if target_group is None:  # no load balancer (consumed by no one): tasks are enough
            healthy, targets = steady, ""
        elif steady:
            healthy, targets = _targets_state(elbv2, target_group, desired)
        else:
            healthy, targets = False, ""
        seen = f"{tasks}, {targets}" if targets else tasks
        if steady and healthy:
            return seen
        if svc and not steady:
            reason = fatal_stop(ecs, cluster, svc, since)
            if reason:
                raise DeployError(
                    f"ECS service {service}: a task stopped: {reason}",
                    hint="tasks in subnets without a NAT gateway need VPC endpoints for "
                    "ecr.api, ecr.dkr, logs and a gateway endpoint for s3",
                )
        if clock() > deadline:
            raise DeployError(
                f"ECS service {service}: "
                + timed_out("its tasks to run behind healthy targets", timeout, seen),
                hint=f"{TIMEOUT_HINT}; its tasks' logs: meshlink local logs <service> on the "
                "local cloud, CloudWatch Logs on AWS",
            )
        progress(f"waiting for {seen}")
        sleep(next(waits))
