from __future__ import annotations

from typing import Any

import pytest

from meshlink.deploy.stability import wait_until_stable
from meshlink.errors import DeployError


class Sequence:
    """ECS + ELBv2 answers that converge after a few looks."""

    def __init__(self, running: list[int], healthy: list[int], desired: int = 2):
        self.running, self.healthy, self.desired = running, healthy, desired

    def describe_services(self, **_: Any) -> dict[str, Any]:
        running = self.running.pop(0) if len(self.running) > 1 else self.running[0]
        return {
            "services": [
                {
                    "desiredCount": self.desired,
                    "runningCount": running,
                    "deployments": [{"rolloutState": "COMPLETED"}],
                }
            ]
        }

    def describe_target_health(self, **_: Any) -> dict[str, Any]:
        healthy = self.healthy.pop(0) if len(self.healthy) > 1 else self.healthy[0]
        states = ["healthy"] * healthy + ["initial"] * (self.desired - healthy)
        return {"TargetHealthDescriptions": [{"TargetHealth": {"State": s}} for s in states]}


def test_waits_until_tasks_run_and_targets_are_healthy() -> None:
    api = Sequence(running=[0, 1, 2], healthy=[0, 2])
    seen: list[str] = []
    result = wait_until_stable(
        api,
        api,
        cluster="c",
        service="s",
        target_group="tg",
        desired=2,
        progress=seen.append,
        sleep=lambda s: None,
    )
    assert result == "2/2 tasks running, 2/2 targets healthy"
    assert seen[0] == "waiting for 0/2 tasks running"


def test_gives_up_with_what_it_saw_last() -> None:
    api = Sequence(running=[1], healthy=[0])
    with pytest.raises(DeployError) as caught:
        wait_until_stable(
            api,
            api,
            cluster="c",
            service="s",
            target_group="tg",
            desired=2,
            timeout=0.0,
            sleep=lambda s: None,
        )
    assert "did not become stable in 0s: 1/2 tasks running" in caught.value.message
