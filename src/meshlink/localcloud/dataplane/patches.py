"""What the data plane needs moto 5.2.5 to do differently (installed once, idempotent).

* ``ecs::task`` no longer walks towards STOPPED each time it is described: a task's
  status is what its process is doing.
* ``DescribeTargetHealth`` reports the data plane's health checks.
* ``ListTasks(serviceName=...)`` filters by service (moto ignores the parameter), and
  ``desiredStatus`` defaults to RUNNING as in AWS.
* A Fargate task definition with memory only at task level no longer makes
  ``RunTask`` fail with a 500 (moto adds up container memory, None included).
* An ENI in a VPC without DNS hostnames has ``private_dns_name`` None instead of no
  attribute (moto's awsvpc Task reads it, so RunTask crashed in such VPCs).
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.dataplane.health import HealthBoard

_board: HealthBoard | None = None
_installed = False


def set_board(board: HealthBoard | None) -> None:
    """The board DescribeTargetHealth reads (None: moto's own answers)."""
    global _board
    _board = board


def install() -> None:
    global _installed
    if _installed:
        return
    _install_task_state()
    _install_target_health()
    _install_list_tasks()
    _install_eni_dns_name()
    _install_task_memory()
    _installed = True


def _install_task_state() -> None:
    from moto.moto_api import state_manager

    # "manual" with an unreachable count: the status only changes when we set it.
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 2**62})


def _install_target_health() -> None:
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    original = FakeTargetGroup.health_for

    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
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

    FakeTargetGroup.health_for = health_for  # type: ignore[method-assign]


def _install_list_tasks() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.list_tasks

    def list_tasks(
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

    EC2ContainerServiceBackend.list_tasks = list_tasks  # type: ignore[method-assign]


def _install_eni_dns_name() -> None:
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if not hasattr(NetworkInterface, "private_dns_name"):
        NetworkInterface.private_dns_name = None  # type: ignore[assignment]  # class default; set per ENI when DNS is on


def _install_task_memory() -> None:
    from types import SimpleNamespace

    from moto.ecs.models import EC2ContainerServiceBackend

    original: Any = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def calculate(task_definition: Any) -> Any:
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

    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(  # type: ignore[method-assign]
        calculate
    )
