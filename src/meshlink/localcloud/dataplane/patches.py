"""What the data plane needs moto 5.2.5 to do differently.

One of the local-cloud patch modules (:data:`meshlink.localcloud.patches.MODULES`);
:func:`install` installs them all, once (see docs/ARCHITECTURE.md, "The local cloud").

* ``ecs::task`` no longer walks towards STOPPED each time it is described: a task's
  status is what its process is doing.
* ``DescribeTargetHealth`` reports the data plane's health checks.
* ``ListTasks(serviceName=...)`` filters by service (moto ignores the parameter), and
  ``desiredStatus`` defaults to RUNNING as in AWS.
* A Fargate task definition with memory only at task level no longer makes
  ``RunTask`` fail with a 500 (moto adds up container memory, None included).
* ``CreateService``, ``RunTask`` and ``DeleteService`` wake the data plane, which places
  (or stops) the tasks at once instead of at its next poll.
* An ENI in a VPC without DNS hostnames has ``private_dns_name`` None instead of no
  attribute (moto's awsvpc Task reads it, so RunTask crashed in such VPCs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshlink.localcloud.dataplane.health import HealthBoard
from meshlink.localcloud.patches import install as install
from meshlink.localcloud.patches.registry import step, wrap

_board: HealthBoard | None = None
_waker: Callable[[], None] | None = None


def set_board(board: HealthBoard | None) -> None:
    """The board DescribeTargetHealth reads (None: moto's own answers)."""
    global _board
    _board = board


def set_waker(waker: Callable[[], None] | None) -> None:
    """What an ECS call that needs tasks placed or stopped calls (None: nothing)."""
    global _waker
    _waker = waker


@wrap("moto.ecs.models:EC2ContainerServiceBackend", "create_service")
@wrap("moto.ecs.models:EC2ContainerServiceBackend", "run_task")
@wrap("moto.ecs.models:EC2ContainerServiceBackend", "delete_service")
def _waking(original: Any, *args: Any, **kwargs: Any) -> Any:
    result = original(*args, **kwargs)
    if _waker is not None:
        _waker()
    return result


@step
def _manual_task_state() -> None:
    from moto.moto_api import state_manager

    # "manual" with an unreachable count: the status only changes when we set it.
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 2**62})


@wrap("moto.elbv2.models:FakeTargetGroup", "health_for")
def _health_for(original: Any, self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
    from moto.elbv2.models import FakeHealthStatus

    board = _board
    registered = self.targets.get(target["Id"])
    if board is None or registered is None:
        return original(self, target, ec2_backend)
    port = int(target.get("Port") or registered.get("Port") or self.port)
    state = board.get(self.arn, target["Id"], port)
    if state is None:
        return FakeHealthStatus(
            target["Id"],
            str(port),
            self.health_check_port,
            "initial",
            "Elb.RegistrationInProgress",
            "Target registration is in progress",
        )
    return FakeHealthStatus(
        target["Id"],
        str(port),
        self.health_check_port,
        state.state,
        state.reason,
        state.description,
    )


@wrap("moto.ecs.models:EC2ContainerServiceBackend", "list_tasks")
def _list_tasks(
    original: Any,
    self: Any,
    cluster_str: str | None = None,
    container_instance: str | None = None,
    family: str | None = None,
    started_by: str | None = None,
    service_name: str | None = None,
    desiredStatus: str | None = None,
) -> list[Any]:
    tasks = original(
        self,
        cluster_str,
        container_instance,
        family,
        started_by,
        None,
        desiredStatus or "RUNNING",
    )
    if service_name:
        name = service_name.rsplit("/", 1)[-1]
        tasks = [t for t in tasks if t.group == f"service:{name}"]
    return list(tasks)


@step
def _eni_dns_name() -> None:
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if not hasattr(NetworkInterface, "private_dns_name"):
        NetworkInterface.private_dns_name = None  # type: ignore[assignment]  # class default; set per ENI when DNS is on


@wrap("moto.ecs.models:EC2ContainerServiceBackend", "_calculate_task_resource_requirements")
def _task_resources(original: Any, task_definition: Any) -> Any:
    from types import SimpleNamespace

    try:
        return original(task_definition)
    except TypeError:
        fixed = [
            c
            if c.get("memory") or c.get("Memory") or c.get("MemoryReservation")
            else {**c, "memory": c.get("memoryReservation") or 0}
            for c in task_definition.container_definitions
        ]
        return original(SimpleNamespace(container_definitions=fixed))
