"""Wait until an ECS service runs its desired tasks behind healthy targets.

On AWS, CloudFormation returns from an ECS service only once it is stable; the local
cloud returns as soon as the service exists. Waiting here makes `up` mean the same on
both: when it finishes, every task runs and every target is healthy (on AWS the first
look already says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from meshlink.errors import DeployError


def _service_state(ecs: Any, cluster: str, service: str) -> tuple[bool, str]:
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services") or []
    if not found:
        return False, "not found yet"
    svc = found[0]
    desired, running = svc.get("desiredCount", 0), svc.get("runningCount", 0)
    deployments = svc.get("deployments") or []
    rolling = len(deployments) > 1 or any(
        d.get("rolloutState") == "IN_PROGRESS" for d in deployments
    )
    failed = [d for d in deployments if d.get("rolloutState") == "FAILED"]
    if failed:
        reason = failed[0].get("rolloutStateReason") or "deployment failed"
        raise DeployError(f"ECS service {service}: {reason}", hint="see the tasks' logs")
    steady = running == desired and not svc.get("pendingCount") and not rolling
    return steady, f"{running}/{desired} tasks running"


def _targets_state(elbv2: Any, target_group: str, desired: int) -> tuple[bool, str]:
    health = elbv2.describe_target_health(TargetGroupArn=target_group)
    states = [h["TargetHealth"]["State"] for h in health["TargetHealthDescriptions"]]
    healthy = states.count("healthy")
    return healthy >= desired, f"{healthy}/{desired} targets healthy"


def wait_until_stable(
    ecs: Any,
    elbv2: Any,
    *,
    cluster: str,
    service: str,
    target_group: str | None,
    desired: int,
    progress: Callable[[str], None] = lambda message: None,
    timeout: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Block until the service is steady and its targets (if any) healthy; what was seen last."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        steady, tasks = _service_state(ecs, cluster, service)
        if target_group is None:  # no load balancer (consumed by no one): tasks are enough
            healthy, targets = steady, ""
        elif steady:
            healthy, targets = _targets_state(elbv2, target_group, desired)
        else:
            healthy, targets = False, ""
        seen = f"{tasks}, {targets}" if targets else tasks
        if steady and healthy:
            return seen
        if time.monotonic() > deadline:
            raise DeployError(
                f"ECS service {service} did not become stable in {timeout:.0f}s: {seen}",
                hint="look at its tasks' logs (meshlink local logs <service> on the local "
                "cloud, CloudWatch Logs on AWS)",
            )
        progress(f"waiting for {seen}")
        sleep(delay)
        delay = min(delay * 1.5, 5.0)
