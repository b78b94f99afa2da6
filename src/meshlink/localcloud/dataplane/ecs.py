"""ECS on moto's objects: service tasks, their states, exit codes (caller holds the lock).

moto 5.2.5 never creates tasks for a service and moves a task towards STOPPED each
time it is described; here tasks are created for services and their state is what
the data plane says it is (the ``ecs::task`` transition is made manual).
"""

from __future__ import annotations

import signal
import uuid
from datetime import UTC, datetime
from typing import Any

from meshlink.localcloud.dataplane.command import get

ESSENTIAL_EXIT = "Essential container in task exited"


def now() -> datetime:
    return datetime.now(UTC)


def containers(ecs: Any, task: Any) -> list[dict[str, Any]]:
    """The task definition's containers, in order (the local cloud runs the first)."""
    definition = ecs.describe_task_definition(task.task_definition_arn)
    return [dict(c) for c in definition.container_definitions or []]


def first_container(ecs: Any, task: Any) -> dict[str, Any]:
    """The task definition's first container (the one the local cloud runs)."""
    definition = ecs.describe_task_definition(task.task_definition_arn)
    containers = list(definition.container_definitions or [])
    return dict(containers[0]) if containers else {}


def network_mode(ecs: Any, task_definition_arn: str) -> str:
    return str(ecs.describe_task_definition(task_definition_arn).network_mode or "bridge")


def eni_of(task: Any) -> str | None:
    for attachment in getattr(task, "attachments", []) or []:
        for detail in attachment.get("details", []):
            if detail.get("name") == "networkInterfaceId":
                return str(detail["value"])
    return None


def set_eni_address(ec2: Any, task: Any, address: str) -> None:
    """Show the task's loopback address in ECS and EC2 (it is where the task really is)."""
    eni_id = eni_of(task)
    eni = ec2.enis.get(eni_id) if eni_id else None
    if eni is not None:
        eni.private_ip_address = address
        eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]
    for attachment in getattr(task, "attachments", []) or []:
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                detail["value"] = address
    attachment_id = task.attachments[0]["id"] if getattr(task, "attachments", None) else None
    for container in task.containers:
        container.network_interfaces = [
            {"attachmentId": attachment_id, "privateIpv4Address": address}
        ]


def create_service_task(ecs: Any, service: Any, subnet: str | None) -> Any:
    """A new moto Task for `service`, placed in `subnet` (AWS spreads tasks over subnets)."""
    from moto.ecs.models import Task

    cluster = ecs._get_cluster(service.cluster_name)
    definition = ecs.describe_task_definition(service.task_definition)
    network = service.network_configuration or None
    if network and subnet:
        config = dict(get(network, "awsvpcConfiguration"))
        subnets = [subnet] + [s for s in config.get("subnets", []) if s != subnet]
        network = {"awsvpcConfiguration": {**config, "subnets": subnets}}
    deployment = service.deployments[0]["id"] if service.deployments else "ecs-svc/meshlink"
    try:
        resources = ecs._calculate_task_resource_requirements(definition)
    except (TypeError, KeyError, ValueError):
        resources = None  # Fargate sizes the task itself; moto trips on container memory None
    task = Task(
        cluster=cluster,
        task_definition=definition,
        container_instance_arn=None,
        resource_requirements=resources,
        backend=ecs,
        group=f"service:{service.name}",
        launch_type=service.launch_type or "FARGATE",
        started_by=deployment,
        tags=[],
        networking_configuration=network,
        platform_version=service.platform_version,
    )
    task.last_status = "PROVISIONING"
    task.desired_status = "RUNNING"
    # DescribeTasks createdAt: "the time when the task was created"
    # (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html); moto has none.
    task.created_at = now()  # type: ignore[attr-defined]  # moto models no createdAt
    ecs.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    for container in task.containers:
        container.exitCode = None  # type: ignore[assignment]  # no exit code while running
    return task


def mark_pending(task: Any) -> None:
    task.last_status = "PENDING"
    for container in task.containers:
        container.exitCode = None  # no exit code while it runs
        container.last_status = "PENDING"


def mark_running(task: Any) -> None:
    task.last_status = "RUNNING"
    task.started_at = now()
    task.pull_started_at = task.pull_stopped_at = task.started_at
    for container in task.containers:
        container.last_status = "RUNNING"
        container.exitCode = None


def exit_code(returncode: int) -> int:
    """A process's return code the way Docker/ECS report it (killed by SIGKILL -> 137)."""
    return 128 - returncode if returncode < 0 else returncode


def mark_stopped(task: Any, code: int | None, reason: str, stop_code: str) -> None:
    """STOPPED with the container's exit code; a reason already set (StopTask) is kept."""
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    if not task.stopped_reason:
        task.stopped_reason = reason
    task.stop_code = getattr(task, "stop_code", None) or stop_code
    task.stopped_at = task.execution_stopped_at = now()
    task.stopping_at = getattr(task, "stopping_at", None) or task.stopped_at
    for container in task.containers:
        container.last_status = "STOPPED"
        container.exitCode = code
        if code is None:
            container.reason = reason


def record_event(service: Any, message: str) -> None:
    """A line in DescribeServices' events, newest first as in AWS."""
    text = f"(service {service.name}) {message}"
    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": now(), "message": text})
    del service.events[100:]


def update_counts(service: Any, running: int, pending: int) -> None:
    service.running_count = running
    service.pending_count = pending
    for deployment in service.deployments:
        deployment["runningCount"] = running
        deployment["pendingCount"] = pending
        deployment["desiredCount"] = service.desired_count
        done = running >= service.desired_count and pending == 0
        if deployment.get("rolloutState") == "FAILED" and not done:
            continue  # the circuit breaker tripped; only a healthy service clears it
        deployment["rolloutState"] = "COMPLETED" if done else "IN_PROGRESS"
        deployment["rolloutStateReason"] = (
            f"ECS deployment {deployment['id']} {'completed' if done else 'in progress'}."
        )
        deployment["updatedAt"] = now()


def task_failed(service: Any) -> None:
    """Count a failed task; trip the deployment circuit breaker as ECS does.

    ECS's threshold is ``min(200, max(3, ceil(0.5 * desiredCount)))`` failed tasks
    (3 for a laptop-sized service), so a task that cannot run fails ``meshlink up``
    instead of crash-looping silently.
    """
    config = getattr(service, "deployment_configuration", None) or {}
    breaker = get(config, "deploymentCircuitBreaker") or {}
    threshold = min(200, max(3, -(-service.desired_count // 2)))
    for deployment in service.deployments[:1]:
        deployment["failedTasks"] = int(deployment.get("failedTasks") or 0) + 1
        if get(breaker, "enable") and deployment["failedTasks"] >= threshold:
            deployment["rolloutState"] = "FAILED"
            deployment["rolloutStateReason"] = (
                "ECS deployment circuit breaker: tasks failed to start."
            )


def delete_eni(ec2: Any, task: Any) -> None:
    """A stopped Fargate task's ENI goes away, as in AWS."""
    eni_id = eni_of(task)
    if eni_id and eni_id in ec2.enis:
        del ec2.enis[eni_id]


SIGNAL_NAMES = {int(s): s.name for s in signal.Signals}
