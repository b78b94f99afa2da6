"""Probe tasks and the traffic verdicts, on a canned ECS (the real thing: functional tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.verify import probes, traffic
from meshlink.verify.model import Subject, Verdict
from tests.unit.verify.fakes import ONE_WAY, ClientError, FakeRuntime, Stub, context, topology


@pytest.fixture()
def runtime(tmp_path: Path) -> FakeRuntime:
    rt = FakeRuntime(topology(ONE_WAY), tmp_path)
    for account in ("a", "b", "c"):
        rt.record(f"platform:{account}", ClusterName="meshlink-unit")
        rt.record(
            f"network:{account}",
            vpc_id=f"vpc-{account}",
            private_subnet_ids=[f"subnet-{account}1"],
            az_ids=["z1"],
        )
    for service in ("alpha", "beta", "gamma"):
        rt.record(
            f"edge:{service}",
            TaskSecurityGroupId=f"sg-{service}",
            LoadBalancerDnsName=f"unit-{service}-1.us-east-1.elb.amazonaws.com",
            ServiceName=f"com.amazonaws.vpce.us-east-1.vpce-svc-{service}",
        )
        rt.record(f"service:{service}", TaskDefinitionArn=f"td-{service}")
    rt.record("endpoints:alpha", EndpointBetaId="vpce-1", EndpointBetaDns="vpce-1.example")
    return rt


def ecs(exit_code: int | None, *, stops: bool = True, address: str | None = None) -> Stub:
    task: dict[str, Any] = {
        "taskArn": "arn:task/1",
        "lastStatus": "STOPPED" if stops else "RUNNING",
    }
    if address is not None:  # the probe task's ENI address, as ECS describes it
        task["attachments"] = [{"details": [{"name": "privateIPv4Address", "value": address}]}]
    task["containers"] = [{"exitCode": exit_code}]
    task["stoppedReason"] = "Essential container in task exited"
    return Stub(
        run_task={"tasks": [{"taskArn": "arn:task/1"}]},
        describe_tasks={"tasks": [task]},
        stop_task={},
    )


def endpoint_ec2(state: str) -> Stub:
    return Stub(
        describe_vpc_endpoints={"VpcEndpoints": [{"VpcEndpointId": "vpce-1", "State": state}]}
    )


def positive(runtime: FakeRuntime) -> Any:
    verdict = Verdict("traffic.positive", "traffic", Subject.edge("alpha", "beta"))
    return traffic.check_positive(context(runtime, probe_timeout=3), verdict)


def negative(runtime: FakeRuntime, consumer: str, provider: str) -> Any:
    verdict = Verdict("traffic.negative", "traffic", Subject.pair(consumer, provider))
    return traffic.check_negative(context(runtime), verdict)


def test_positive_probe_runs_in_the_consumers_network(runtime: FakeRuntime) -> None:
    runtime.clients[("a", "ec2")] = endpoint_ec2("available")
    runtime.clients[("a", "ecs")] = client = ecs(0)
    result = positive(runtime)
    assert result.status == "pass"
    name, call = client.calls[0]
    assert name == "run_task"
    assert call["taskDefinition"] == "td-alpha"
    assert call["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["subnet-a1"],
        "securityGroups": ["sg-alpha"],
        "assignPublicIp": "DISABLED",
    }
    # Arguments to the image's entrypoint (python -m meshlink_service), as on AWS.
    assert call["overrides"]["containerOverrides"] == [
        {
            "name": "alpha",
            "command": [
                "probe",
                "http://vpce-1.example:8081/health",
                "--expect-service",
                "beta",
                "--timeout",
                "3",
            ],
        }
    ]


@pytest.mark.parametrize(("code", "outcome"), [(10, "unreachable"), (13, "wrong-service")])
def test_positive_probe_fails_on_any_other_exit(
    runtime: FakeRuntime, code: int, outcome: str
) -> None:
    runtime.clients[("a", "ec2")] = endpoint_ec2("available")
    runtime.clients[("a", "ecs")] = ecs(code)
    result = positive(runtime)
    assert (result.status, result.evidence["outcome"]) == ("fail", outcome)


def test_positive_probe_not_started_through_a_dead_endpoint(runtime: FakeRuntime) -> None:
    runtime.clients[("a", "ec2")] = endpoint_ec2("rejected")
    runtime.clients[("a", "ecs")] = client = ecs(0)
    result = positive(runtime)
    assert result.status == "fail"
    assert "rejected" in result.message
    assert client.calls == []


@pytest.mark.parametrize(
    ("code", "status"), [(10, "pass"), (11, "pass"), (0, "fail"), (12, "fail"), (None, "fail")]
)
def test_negative_probe_passes_only_when_nothing_answers(
    runtime: FakeRuntime, code: int | None, status: str
) -> None:
    runtime.clients[("c", "ecs")] = client = ecs(code)
    result = negative(runtime, "gamma", "beta")
    assert result.status == status
    command = client.calls[0][1]["overrides"]["containerOverrides"][0]["command"]
    assert "http://unit-beta-1.us-east-1.elb.amazonaws.com:8081/health" in command


def test_a_negative_probe_to_a_service_nobody_consumes_is_skipped_unrun(
    runtime: FakeRuntime,
) -> None:
    # alpha is consumed by no one: no NLB or endpoint service exists to aim at.
    runtime.clients[("b", "ecs")] = client = ecs(0)
    result = negative(runtime, "beta", "alpha")
    assert result.status == "skipped"
    assert (
        result.message == "alpha is consumed by no one: it has no NLB or endpoint service to aim at"
    )
    assert client.calls == []


def test_a_service_with_its_own_local_command_gets_the_whole_probe_command(
    runtime: FakeRuntime,
) -> None:
    runtime.clients[("c", "ecs")] = client = ecs(10)
    negative(runtime, "gamma", "beta")
    command = client.calls[0][1]["overrides"]["containerOverrides"][0]["command"]
    assert command[:4] == ["python", "-m", "meshlink_service", "probe"]


def test_a_probe_that_never_stops_is_stopped(runtime: FakeRuntime) -> None:
    runtime.clients[("c", "ecs")] = client = ecs(None, stops=False)
    verdict = Verdict("traffic.negative", "traffic", Subject.pair("gamma", "beta"))
    result = traffic.check_negative(context(runtime, task_timeout=0.2), verdict)
    assert result.status == "fail"
    assert result.evidence["outcome"] == "task-timeout"
    assert [name for name, _ in client.calls if name == "stop_task"] == ["stop_task"]


def test_run_task_refused(runtime: FakeRuntime) -> None:
    runtime.clients[("c", "ecs")] = Stub(run_task=ClientError("ClusterNotFoundException"))
    result = negative(runtime, "gamma", "beta")
    assert result.status == "fail"
    assert "ClusterNotFoundException" in result.evidence["stopped_reason"]


def test_non_edges_are_every_other_ordered_pair(runtime: FakeRuntime) -> None:
    pairs = {subject.name for subject, _ in traffic.non_edges(context(runtime))}
    assert pairs == {
        "alpha->gamma",
        "beta->alpha",
        "beta->gamma",
        "gamma->alpha",
        "gamma->beta",
    }


def outsider_ec2(answer: Any) -> Stub:
    return Stub(
        describe_vpcs={"Vpcs": [{"VpcId": "vpc-default"}]},
        describe_subnets={"Subnets": [{"SubnetId": "subnet-x", "AvailabilityZoneId": "z1"}]},
        create_vpc_endpoint=answer,
        delete_vpc_endpoints={},
    )


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (ClientError("InvalidServiceName"), "pass"),
        (ClientError("InvalidParameter"), "warn"),
        ({"VpcEndpoint": {"VpcEndpointId": "vpce-stranger"}}, "fail"),
    ],
)
def test_an_outsider_must_be_refused(runtime: FakeRuntime, answer: Any, status: str) -> None:
    runtime.clients[("b", "ec2")] = Stub(
        describe_vpc_endpoint_service_configurations={
            "ServiceConfigurations": [{"AvailabilityZoneIds": ["z1"]}]
        }
    )
    runtime.record("edge:beta", ServiceId="vpce-svc-beta", ServiceName="com.amazonaws.vpce.x")
    # Account c (gamma's) consumes nothing from beta: it is the outsider.
    outsider = outsider_ec2(answer)
    runtime.sessions.by_id[("333333333333", "ec2")] = outsider
    verdict = Verdict("privatelink.outsider-refused", "traffic", Subject("service", "beta"))
    result = traffic.check_outsider_refused(context(runtime), verdict)
    assert result.status == status, result.message
    assert result.evidence["account_id"] == "333333333333"
    deleted = [c for c in outsider.calls if c[0] == "delete_vpc_endpoints"]
    assert bool(deleted) == (status == "fail")  # a stranger's endpoint is removed again


def test_exit_codes_match_the_probe_command() -> None:
    """The table mirrors meshlink_service.probe.ProbeOutcome (a separate package)."""
    meshlink_service = pytest.importorskip("meshlink_service.probe")
    for outcome in meshlink_service.ProbeOutcome:
        assert probes.EXIT_MEANINGS[int(outcome)] == outcome.name.lower().replace("_", "-")


def test_an_interrupted_run_stops_its_probe_tasks(runtime: FakeRuntime) -> None:
    runtime.clients[("b", "ecs")] = client = ecs(None, stops=False)
    ctx = context(runtime)
    ctx.cancelled.set()
    spec = probes.ProbeSpec("negative", "beta", "alpha", "http://x:1/health", "alpha")
    run = probes.run_probe(ctx, spec)
    assert run.outcome == "cancelled"
    stops = [call for name, call in client.calls if name == "stop_task"]
    assert stops == [
        {"cluster": "meshlink-unit", "task": "arn:task/1", "reason": "meshlink verify: interrupted"}
    ]


def test_a_refused_probe_says_why_on_the_local_cloud(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlink.localcloud.dataplane import api

    asked: list[tuple[str, str | None]] = []
    reason = "no ingress rule of sg-e on eni-e admits eni-t (sg-alpha) on tcp/8081"

    def refusals(source: str, since: float, *, endpoint_url: str | None = None) -> Any:
        asked.append((source, endpoint_url))
        refusal = {"source": source, "address": "127.3.0.1", "port": 8081, "reason": reason}
        return [refusal, refusal]  # the probe tried twice: one reason

    monkeypatch.setattr(api, "refusals", refusals)
    runtime.endpoint_url = "http://localhost:4999"  # type: ignore[attr-defined]
    runtime.clients[("a", "ec2")] = endpoint_ec2("available")
    runtime.clients[("a", "ecs")] = ecs(10, address="127.1.0.7")
    result = positive(runtime)
    assert asked == [("127.1.0.7", "http://localhost:4999")]
    assert result.status == "fail"
    assert result.message == (
        f"probe unreachable (exit 10); the local cloud refused it: 127.3.0.1:8081: {reason}"
    )
    assert result.evidence["refused"] == [f"127.3.0.1:8081: {reason}"]


def test_a_probe_that_got_through_asks_for_no_reason(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlink.localcloud.dataplane import api

    monkeypatch.setattr(api, "refusals", lambda *a, **k: pytest.fail("asked"))
    runtime.endpoint_url = "http://localhost:4999"  # type: ignore[attr-defined]
    runtime.clients[("a", "ec2")] = endpoint_ec2("available")
    runtime.clients[("a", "ecs")] = ecs(0, address="127.1.0.7")
    assert positive(runtime).evidence.get("refused") is None


def result(check: str, status: str, edges: tuple[tuple[str, str], ...], **evidence: Any) -> Any:
    from meshlink.verify.model import CheckResult

    category = "traffic" if check.startswith("traffic") else "control"
    subject = Subject.edge(*edges[0]) if edges else Subject("service", "beta")
    return CheckResult(check, category, subject, status, f"{check} said no", evidence, edges)  # type: ignore[arg-type]


def test_a_failed_probe_names_the_failed_control_checks_of_its_edge() -> None:
    edge, other = ("alpha", "beta"), ("gamma", "beta")
    results = [
        result("endpoint.security-group", "fail", (edge,)),
        result("endpoint.zones", "pass", (edge,)),
        result("endpoint.security-group", "fail", (other,)),
        result("traffic.positive", "fail", (edge,)),
        result("traffic.positive", "pass", (other,)),
    ]
    explained = traffic.with_likely_causes(results)
    probe = explained[3]
    assert probe.message == (
        "traffic.positive said no; likely cause: endpoint.security-group failed "
        "(endpoint.security-group said no)"
    )
    assert probe.evidence["likely_causes"] == ["endpoint.security-group"]
    assert explained[:3] == results[:3] and explained[4] == results[4]


def test_a_probe_refused_for_a_known_reason_keeps_it() -> None:
    edge = ("alpha", "beta")
    refused = result("traffic.positive", "fail", (edge,), refused=["sg says no"])
    results = [result("endpoint.security-group", "fail", (edge,)), refused]
    assert traffic.with_likely_causes(results)[1] is refused
