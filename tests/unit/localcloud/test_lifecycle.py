"""In-between states read through TimedState, on a fake clock (no moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from meshlink.localcloud import clock
from meshlink.localcloud.clock import Timing
from meshlink.localcloud.patches import ecs as ecs_patches
from meshlink.localcloud.patches import lifecycle
from meshlink.localcloud.patches.lifecycle import TimedState


class Now:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Iterator[Now]:
    fake = Now()
    monkeypatch.setattr(clock, "now", fake)
    before = clock.current()
    clock.configure(Timing("aws", 0.1, True))
    yield fake
    clock.configure(before)


class Nat:
    state = TimedState(lifecycle.TIMED["moto.ec2.models.nat_gateways:NatGateway"])

    def __init__(self) -> None:
        self.state = "available"


class Endpoint:
    state = TimedState(lifecycle.TIMED["moto.ec2.models.vpcs:VPCEndPoint"])

    def __init__(self, kind: str = "Interface", state: str = "available") -> None:
        self.vpc_endpoint_type = kind
        self.state = state


def test_nat_gateway_pending_then_available_then_deleting(now: Now) -> None:
    nat = Nat()
    assert nat.state == "pending"
    now.value += 9.9  # 100 s x 0.1
    assert nat.state == "pending"
    now.value += 0.2
    assert nat.state == "available"
    nat.state = "deleted"
    assert nat.state == "deleting"
    now.value += 6.1  # 60 s x 0.1
    assert nat.state == "deleted"
    assert vars(nat)["state"] == "deleted"  # the raw value stays where moto put it


def test_instant_reads_the_raw_state(now: Now) -> None:
    clock.configure(Timing())
    assert Nat().state == "available"


def test_endpoint_after_acceptance_and_traffic_a_little_later(now: Now) -> None:
    endpoint = Endpoint(state="pendingAcceptance")
    now.value += 20.0  # past 120 s x 0.1: accepted late
    assert endpoint.state == "pendingAcceptance"
    endpoint.state = "available"
    assert endpoint.state == "available"
    assert lifecycle.endpoint_serves_at(endpoint) == pytest.approx(now.value + 2.5)
    gateway = Endpoint("Gateway")
    assert gateway.state == "pending"
    now.value += 0.6
    assert gateway.state == "available"


def test_cloudformation_settles_the_ready_time(now: Now) -> None:
    nat = Nat()
    lifecycle.settle(nat, now.value + 30.0)
    now.value += 20.0
    assert nat.state == "pending"
    now.value += 10.0
    assert nat.state == "available"
    lifecycle.settle(object(), 0.0)  # not timed: nothing happens


def test_times_of_other_objects_is_none() -> None:
    thing: Any = object()
    assert lifecycle.times_of(thing) is None


class Task:
    last_status = ecs_patches.TaskStatus()

    def __init__(self) -> None:
        self.status = ""  # moto's managed state: what last_status reads and writes
        self.last_status = "PROVISIONING"  # as the data plane creates a service's task


def test_a_task_is_provisioning_then_pending_until_the_data_plane_runs_it(now: Now) -> None:
    provisioning = 10.0 * 0.1  # fargate_task.provisioning x the scale
    task = Task()
    assert task.last_status == "PROVISIONING"
    task.last_status = "PENDING"  # placed by the data plane at once
    assert (task.status, task.last_status) == ("PENDING", "PROVISIONING")
    now.value += provisioning - 0.01
    assert task.last_status == "PROVISIONING"
    now.value += 0.02
    assert task.last_status == "PENDING"
    task.last_status = "RUNNING"
    assert task.last_status == "RUNNING"
    clock.configure(Timing("instant"))
    fresh = Task()
    fresh.last_status = "PENDING"
    assert fresh.last_status == "PENDING"  # instant: what was set


def test_a_new_task_is_missing_from_describe_tasks_while_the_lag_lasts(now: Now) -> None:
    task = Task()  # asked for now
    assert not ecs_patches.visible(task, now.value, lag=0.2)
    assert ecs_patches.visible(task, now.value + 0.2, lag=0.2)
    assert ecs_patches.visible(task, now.value, lag=0.0)  # consistency off


def test_describe_tasks_lists_what_it_did_not_find_as_missing() -> None:
    class Found:
        task_arn = "arn:aws:ecs:us-east-1:111111111111:task/c/abc"

    asked = [Found.task_arn, "abc", "arn:aws:ecs:us-east-1:111111111111:task/c/new", "other"]
    assert ecs_patches.missing(asked, [Found()]) == [
        {"arn": "arn:aws:ecs:us-east-1:111111111111:task/c/new", "reason": "MISSING"},
        {"arn": "other", "reason": "MISSING"},
    ]


def test_update_service_leaves_the_running_count_to_the_scheduler() -> None:
    """A raised desired count is not tasks running (moto said so at once)."""
    from moto.ecs.models import EC2ContainerServiceBackend, ecs_backends

    backend = ecs_backends["123456789012"]["eu-west-3"]
    backend.create_cluster("counts")
    backend.register_task_definition(
        "web", [{"name": "web", "image": "x", "memory": 512}], network_mode="awsvpc"
    )
    backend.create_service("counts", "web", 1, task_definition_str="web")
    service = backend.services["counts:web"]
    service.running_count, service.pending_count = 1, 0  # what the data plane had set
    cluster = backend.clusters["counts"]
    cluster.running_tasks_count, cluster.pending_tasks_count = 1, 0
    updated = ecs_patches._update_service_counts(
        EC2ContainerServiceBackend.update_service,
        backend,
        {"cluster": "counts", "service": "web", "desired_count": 3},
    )
    assert (updated.desired_count, updated.running_count, updated.pending_count) == (3, 1, 0)
    assert (cluster.running_tasks_count, cluster.pending_tasks_count) == (1, 0)
    # A forced new deployment starts in progress, with no failed task of the last one.
    updated.deployments[0].update(rolloutState="FAILED", failedTasks=3)
    again = ecs_patches._update_service_counts(
        EC2ContainerServiceBackend.update_service,
        backend,
        {"cluster": "counts", "service": "web", "force_new_deployment": True},
    )
    assert (again.deployments[0]["rolloutState"], again.deployments[0]["failedTasks"]) == (
        "IN_PROGRESS",
        0,
    )
