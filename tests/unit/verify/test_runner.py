"""The runner: every (check, subject) once, bounded concurrency, stable order, saved."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from meshlink.errors import EnvironmentProblem, VerifyFailed
from meshlink.stacks.outputs import EndpointsOutputs
from meshlink.verify import runner
from meshlink.verify.context import VerifyContext, VerifyOptions
from meshlink.verify.model import CheckResult, CheckSpec, Subject, Verdict
from tests.unit.verify.fakes import FakeRuntime, Stub, topology

SHARED = """\
name: unit
region: us-east-1
target: local
accounts:
  users: { id: "111111111111", vpc_cidr: 10.1.0.0/16 }
services:
  a: { account: users, port: 8080, desired_count: 1, consumes: [b] }
  b: { account: users, port: 8081, desired_count: 1, consumes: [a] }
"""


@pytest.fixture()
def runtime(tmp_path: Path) -> FakeRuntime:
    rt = FakeRuntime(topology(), tmp_path)
    rt.record("edge:user-service", ServiceId="vpce-svc-u")
    rt.journal.existed = True
    return rt


def subjects(ctx: VerifyContext) -> list[tuple[Subject, tuple[tuple[str, str], ...]]]:
    return [(Subject("service", name), ()) for name in ("a", "b", "c", "d", "e", "f")]


def test_every_unit_runs_once_within_the_concurrency_bound(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = threading.Lock()
    running = [0, 0]  # now, peak

    def slow(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
        with lock:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return verdict.passed("ok")

    def broken(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
        raise RuntimeError(f"boom on {verdict.subject.name}")

    specs = [
        CheckSpec("traffic.x", "traffic", "t", subjects, slow),
        CheckSpec("control.y", "control", "c", subjects, broken),
    ]
    monkeypatch.setattr(runner, "checks", lambda options: specs)
    seen: list[int] = []
    report = runner.verify(
        runtime,  # type: ignore[arg-type]
        VerifyOptions(concurrency=3, settle_timeout=0),
        lambda result, done, total: seen.append(done),
    )
    assert running[1] == 3
    assert seen == list(range(1, 13))
    # Control first, then traffic; subjects in their declared order.
    assert [(r.check, r.subject.name) for r in report.results][:2] == [
        ("control.y", "a"),
        ("control.y", "b"),
    ]
    assert [r.status for r in report.results] == ["fail"] * 6 + ["pass"] * 6
    assert report.results[0].message == "check could not run: boom on a"
    assert (runtime.state_dir / "verify.json").exists()


def test_environment_problems_stop_the_run(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(ctx: Any, verdict: Verdict) -> CheckResult:
        raise EnvironmentProblem("the local cloud is not running")

    spec = CheckSpec("control.z", "control", "c", subjects, down)
    monkeypatch.setattr(runner, "checks", lambda options: [spec])
    with pytest.raises(EnvironmentProblem):
        runner.verify(runtime, VerifyOptions(settle_timeout=0))  # type: ignore[arg-type]


def test_nothing_deployed_is_an_error(tmp_path: Path) -> None:
    empty = FakeRuntime(topology(), tmp_path)
    empty.journal.existed = True
    with pytest.raises(VerifyFailed, match="nothing deployed"):
        runner.verify(empty, VerifyOptions())  # type: ignore[arg-type]


def test_selection_of_checks() -> None:
    ids = [spec.id for spec in runner.checks(VerifyOptions())]
    # Control first: the probe tasks are started before any check runs, so control
    # checks run while they do.
    assert ids[-2:] == ["traffic.positive", "traffic.negative"]
    assert ids[0] == "stack.healthy"
    assert "privatelink.outsider-refused" not in ids
    assert {s.category for s in runner.checks(VerifyOptions(only="control"))} == {"control"}
    assert [s.id for s in runner.checks(VerifyOptions(only="traffic", deep=True))] == [
        "traffic.positive",
        "traffic.negative",
        "privatelink.outsider-refused",
    ]
    everything = [spec.id for spec in runner.all_checks()]
    assert len(everything) == len(set(everything)) == 16


def test_every_check_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "verify-json.md").read_text()
    for spec in runner.all_checks():
        assert f"`{spec.id}`" in doc, spec.id


def test_a_converging_mesh_is_waited_for(runtime: FakeRuntime) -> None:
    """Targets in their first health checks are waited for; unhealthy ones are not."""
    from meshlink.verify.settle import settle

    runtime.record("edge:user-service", TargetGroupArn="tg-u")
    answers = iter(["initial", "initial", "healthy"])

    def health(TargetGroupArn: str) -> dict[str, Any]:
        state = next(answers, "unhealthy")
        return {"TargetHealthDescriptions": [{"TargetHealth": {"State": state}}]}

    runtime.clients[("users", "elbv2")] = Stub(describe_target_health=health)
    ctx = VerifyContext(runtime, VerifyOptions())  # type: ignore[arg-type]
    slept: list[float] = []
    assert settle(ctx, 30, runtime.notice, sleep=slept.append) == []
    assert slept == [0.25, 0.25]  # the local cloud's shortest poll (deadlines.POLL_FLOOR)
    assert runtime.notices == [
        "waiting for the mesh to settle: user-service: 1 target(s) in their first health checks"
    ]
    # Unhealthy is a verdict, not a transition: no waiting at all.
    assert settle(ctx, 30, runtime.notice, sleep=slept.append) == []
    assert slept == [0.25, 0.25]  # the local cloud's shortest poll (deadlines.POLL_FLOOR)


def test_settling_reads_the_mesh_in_batches_and_keeps_the_last_round(tmp_path: Path) -> None:
    """One DescribeServices per cluster, one connections read per account; the checks
    then read the same answers without asking again."""
    from meshlink.verify.control_network import check_ecs_service
    from meshlink.verify.model import Subject
    from meshlink.verify.settle import settle

    runtime = FakeRuntime(topology(SHARED), tmp_path)
    runtime.record("platform:users", ClusterName="c")
    for service, other in (("a", "b"), ("b", "a")):
        runtime.record(f"service:{service}", EcsServiceArn=f"arn:{service}")
        runtime.record(f"edge:{service}", ServiceId=f"vpce-svc-{service}")
        endpoint = {EndpointsOutputs.endpoint_id(other): f"vpce-{service}{other}"}
        runtime.record(f"endpoints:{service}", **endpoint)
    rolling = iter([True, False])
    steady = {"status": "ACTIVE", "desiredCount": 1, "runningCount": 1, "pendingCount": 0}

    def services(cluster: str, services: list[str]) -> dict[str, Any]:
        pending = 1 if next(rolling, False) else 0
        return {
            "services": [
                {**steady, "serviceArn": arn, "pendingCount": pending, "deployments": []}
                for arn in services
            ]
        }

    connections = {
        "VpcEndpointConnections": [
            {
                "ServiceId": "vpce-svc-a",
                "VpcEndpointId": "vpce-ba",
                "VpcEndpointState": "available",
            },
            {
                "ServiceId": "vpce-svc-b",
                "VpcEndpointId": "vpce-ab",
                "VpcEndpointState": "available",
            },
        ]
    }
    ecs = Stub(describe_services=services)
    ec2 = Stub(describe_vpc_endpoint_connections=connections)
    runtime.clients[("users", "ecs")] = ecs
    runtime.clients[("users", "ec2")] = ec2
    ctx = VerifyContext(runtime, VerifyOptions())  # type: ignore[arg-type]
    slept: list[float] = []
    assert settle(ctx, 30, runtime.notice, sleep=slept.append) == []
    assert len(slept) == 1  # the first round saw a deployment in progress
    assert [name for name, _ in ecs.calls] == ["describe_services"] * 2  # a round each
    assert ecs.calls[0][1] == {"cluster": "c", "services": ["arn:a", "arn:b"]}
    assert [name for name, _ in ec2.calls] == ["describe_vpc_endpoint_connections"] * 2

    result = check_ecs_service(ctx, Verdict("service.ecs", "control", Subject("service", "a"), ()))
    assert result.status == "pass", result.message
    assert ctx.connections("a") == {"vpce-ba": connections["VpcEndpointConnections"][0]}
    assert len(ecs.calls) == 2 and len(ec2.calls) == 2  # the checks asked nothing more


def test_a_raised_desired_count_is_waited_for_until_a_task_fails(runtime: FakeRuntime) -> None:
    """UpdateService raised the count and nothing is pending yet: the tasks are starting.
    Once a task of the deployment failed, it is service.ecs's to judge, not a wait."""
    from meshlink.verify.settle import Reads, unsettled

    ctx = VerifyContext(runtime, VerifyOptions())  # type: ignore[arg-type]

    def reads(running: int, failed: int) -> Reads:
        primary = {"status": "PRIMARY", "rolloutState": "COMPLETED", "failedTasks": failed}
        svc = {
            "status": "ACTIVE",
            "desiredCount": 2,
            "runningCount": running,
            "pendingCount": 0,
            "deployments": [primary],
        }
        return Reads(services={"user-service": svc})

    assert unsettled(ctx, reads(0, 0)) == ["user-service: 0/2 tasks running, more starting"]
    assert unsettled(ctx, reads(2, 0)) == []
    assert unsettled(ctx, reads(1, 1)) == []  # a task failed: judged, not waited for


def test_running_tasks_not_yet_targets_are_waited_for(runtime: FakeRuntime) -> None:
    """A round can read the service after its tasks ran and the target group before ECS
    registered them: that is registration in progress, not a mesh without targets."""
    from meshlink.verify.settle import Reads, unsettled

    ctx = VerifyContext(runtime, VerifyOptions())  # type: ignore[arg-type]
    svc = {"status": "ACTIVE", "desiredCount": 2, "runningCount": 2, "pendingCount": 0}
    healthy = {"TargetHealth": {"State": "healthy"}}
    draining = {"TargetHealth": {"State": "draining"}}
    reads = Reads(services={"user-service": svc}, health={"user-service": [draining]})
    assert unsettled(ctx, reads) == ["user-service: 0 of 2 running task(s) registered as targets"]
    reads.health["user-service"] = [healthy, healthy, draining]
    assert unsettled(ctx, reads) == []
