from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshlink.deploy.stability import wait_until_stable
from meshlink.errors import DeployError


def not_found(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "not found"}}, "Describe")


class Sequence:
    """ECS + ELBv2 answers that converge after a few looks (None: not visible yet)."""

    def __init__(
        self,
        running: list[int | None],
        healthy: list[int | None],
        desired: int = 2,
        stopped: list[dict[str, Any]] | None = None,
    ):
        self.running, self.healthy, self.desired = running, healthy, desired
        self.stopped = stopped or []

    def describe_services(self, **_: Any) -> dict[str, Any]:
        running = self.running.pop(0) if len(self.running) > 1 else self.running[0]
        if running is None:
            raise not_found("ServiceNotFoundException")
        return {
            "services": [
                {
                    "serviceName": "s",
                    "desiredCount": self.desired,
                    "runningCount": running,
                    "deployments": [
                        {"status": "PRIMARY", "rolloutState": "COMPLETED", "taskDefinition": "td:2"}
                    ],
                }
            ]
        }

    def describe_target_health(self, **_: Any) -> dict[str, Any]:
        healthy = self.healthy.pop(0) if len(self.healthy) > 1 else self.healthy[0]
        if healthy is None:
            raise not_found("TargetGroupNotFound")
        states = ["healthy"] * healthy + ["initial"] * (self.desired - healthy)
        return {"TargetHealthDescriptions": [{"TargetHealth": {"State": s}} for s in states]}

    def list_tasks(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["desiredStatus"] == "STOPPED"
        return {"taskArns": [t["taskArn"] for t in self.stopped]}

    def describe_tasks(self, **_: Any) -> dict[str, Any]:
        return {"tasks": self.stopped}


def wait(api: Sequence, **kwargs: Any) -> str:
    options: dict[str, Any] = {
        "cluster": "c",
        "service": "s",
        "target_group": "tg",
        "desired": 2,
        "timeout": 60.0,
        "sleep": lambda s: None,
        "wall": lambda: 1000.0,
    }
    return wait_until_stable(api, api, **{**options, **kwargs})


def test_waits_until_tasks_run_and_targets_are_healthy() -> None:
    api = Sequence(running=[0, 1, 2], healthy=[0, 2])
    seen: list[str] = []
    assert wait(api, progress=seen.append) == "2/2 tasks running, 2/2 targets healthy"
    assert seen[0] == "waiting for 0/2 tasks running"


def test_a_service_or_target_group_not_visible_yet_is_waited_for() -> None:
    # Eventual consistency: right after CloudFormation created them, describes say NotFound.
    api = Sequence(running=[None, None, 2], healthy=[None, 2])
    seen: list[str] = []
    assert wait(api, progress=seen.append) == "2/2 tasks running, 2/2 targets healthy"
    assert seen[:3] == [
        "waiting for service not visible yet",
        "waiting for service not visible yet",
        "waiting for 2/2 tasks running, target group not visible yet",
    ]


def test_gives_up_at_the_deadline_with_what_it_awaited_and_saw_last() -> None:
    api = Sequence(running=[1], healthy=[0])
    ticks = iter(range(100))
    with pytest.raises(DeployError) as caught:
        wait(api, timeout=3.0, clock=lambda: float(next(ticks)))
    assert caught.value.message == (
        "ECS service s: gave up waiting for its tasks to run behind healthy targets "
        "after 3s; last seen: 1/2 tasks running"
    )
    assert "--timeout" in (caught.value.hint or "")


def test_a_task_stopped_by_its_network_ends_the_wait_with_ecs_reason() -> None:
    reason = (
        "ResourceInitializationError: unable to pull secrets or registry auth: "
        "There is a connection issue between the task and Amazon ECR."
    )
    stopped = [
        # an earlier attempt's failure (before this wait) and another task definition's:
        {"taskArn": "t0", "taskDefinitionArn": "td:2", "stoppedAt": 900.0, "stoppedReason": "X"},
        {
            "taskArn": "t1",
            "taskDefinitionArn": "td:1",
            "stoppedAt": 1005.0,
            "stoppedReason": reason,
        },
        {
            "taskArn": "t2",
            "taskDefinitionArn": "td:2",
            "stoppedAt": 1005.0,
            "stoppedReason": reason,
        },
    ]
    api = Sequence(running=[0], healthy=[0], stopped=stopped)
    with pytest.raises(DeployError) as caught:
        wait(api)
    assert caught.value.message == f"ECS service s: a task stopped: {reason}"


def test_old_or_benign_stops_do_not_end_the_wait() -> None:
    stopped = [
        {"taskArn": "t0", "taskDefinitionArn": "td:2", "stoppedAt": 900.0,
         "stoppedReason": "ResourceInitializationError: before this wait"},
        {"taskArn": "t1", "taskDefinitionArn": "td:2", "stoppedAt": 1005.0,
         "stoppedReason": "Scaling activity initiated by (deployment ecs-svc/1)"},
    ]  # fmt: skip
    api = Sequence(running=[0, 2], healthy=[2], stopped=stopped)
    assert wait(api) == "2/2 tasks running, 2/2 targets healthy"


def test_a_task_created_before_the_wait_that_stops_during_it_does_not_end_it() -> None:
    """Launched before its secret existed, it stops after `up` was run again (the CI case)."""
    stopped = [
        {"taskArn": "t0", "taskDefinitionArn": "td:2", "createdAt": 999.5, "stoppedAt": 1000.4,
         "stoppedReason": "ResourceInitializationError: unable to pull secrets"},
    ]  # fmt: skip
    api = Sequence(running=[0, 0, 2], healthy=[2], stopped=stopped)
    assert wait(api) == "2/2 tasks running, 2/2 targets healthy"
    stopped[0]["createdAt"] = 1000.1  # created during the wait: the cause is still there
    with pytest.raises(DeployError, match="a task stopped: ResourceInitializationError"):
        wait(Sequence(running=[0, 0, 2], healthy=[2], stopped=stopped))


def test_without_a_target_group_running_tasks_are_enough() -> None:
    api = Sequence(running=[1, 2], healthy=[None])
    assert wait(api, target_group=None) == "2/2 tasks running"


class FailedBefore(Sequence):
    """A service whose deployment an earlier run's circuit breaker failed: a new one runs."""

    def __init__(self) -> None:
        super().__init__(running=[0, 2], healthy=[2])
        self.updates: list[dict[str, Any]] = []

    def describe_services(self, **kwargs: Any) -> dict[str, Any]:
        answer = super().describe_services(**kwargs)
        if not self.updates:
            (deployment,) = answer["services"][0]["deployments"]
            deployment.update(rolloutState="FAILED", rolloutStateReason="tasks failed to start.")
        return answer

    def update_service(self, **kwargs: Any) -> dict[str, Any]:
        self.updates.append(kwargs)
        return {}


def test_a_deployment_an_earlier_run_failed_is_started_again_once() -> None:
    service = FailedBefore()
    said: list[str] = []
    seen = wait_until_stable(
        service, service, cluster="c", service="arn:s", target_group="tg", desired=2,
        progress=said.append, timeout=5, sleep=lambda _: None,
    )  # fmt: skip
    assert seen == "2/2 tasks running, 2/2 targets healthy"
    assert service.updates == [{"cluster": "c", "service": "arn:s", "forceNewDeployment": True}]
    assert said[0].startswith("its last deployment failed (ECS service arn:s: tasks failed")
