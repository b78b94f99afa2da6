"""Probe tasks and the traffic verdicts, on a canned ECS (the real thing: functional tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshlink.verify import probe_image, probes, traffic
from meshlink.verify.model import Subject, Verdict
from tests.unit.verify.fakes import ONE_WAY, ClientError, FakeRuntime, Stub, context, topology


@pytest.fixture()
def runtime(tmp_path: Path) -> FakeRuntime:
    rt = FakeRuntime(topology(ONE_WAY), tmp_path)
    for account in ("a", "b", "c"):
        rt.record(
            f"platform:{account}",
            ClusterName="meshlink-unit",
            ProbeTaskDefinitionArn=f"td-probe-{account}",
        )
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


class Lines:
    """What each probe task printed: provider -> probe exit code, and the done line."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.done = True
        self.url_host = "127.3.0.1"

    def __call__(self, ctx: Any, consumer: str, arn: str) -> list[str]:
        lines = [
            json.dumps(
                {
                    "target": provider,
                    "url": f"http://{self.url_host}:8081/health",
                    "outcome": probes.EXIT_MEANINGS.get(code, "crashed"),
                    "code": code,
                    "detail": "said so",
                    "ms": 3.0,
                }
            )
            for provider, code in self.codes.items()
        ]
        return [*lines, json.dumps({"done": len(lines)})] if self.done else lines


@pytest.fixture()
def lines(monkeypatch: pytest.MonkeyPatch) -> Lines:
    found = Lines()
    monkeypatch.setattr(probes, "_output", found)
    return found


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


def positive(runtime: FakeRuntime, **options: Any) -> Any:
    verdict = Verdict("traffic.positive", "traffic", Subject.edge("alpha", "beta"))
    return traffic.check_positive(context(runtime, probe_timeout=3, **options), verdict)


def negative(runtime: FakeRuntime, consumer: str, provider: str) -> Any:
    verdict = Verdict("traffic.negative", "traffic", Subject.pair(consumer, provider))
    return traffic.check_negative(context(runtime), verdict)


def test_the_probe_task_is_the_accounts_own_in_the_consumers_network(
    runtime: FakeRuntime, lines: Lines
) -> None:
    lines.codes = {"beta": 0}
    runtime.clients[("a", "ec2")] = endpoint_ec2("available")
    runtime.clients[("a", "ecs")] = client = ecs(0)
    result = positive(runtime)
    assert result.status == "pass", result.message
    name, call = client.calls[0]
    assert name == "run_task"
    # The probe task definition from the platform stack, never the service's (td-alpha).
    assert call["taskDefinition"] == "td-probe-a"
    assert call["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["subnet-a1"],
        "securityGroups": ["sg-alpha"],
        "assignPublicIp": "DISABLED",
    }
    # Arguments to the image's entrypoint (python -m meshlink_service), as on AWS.
    assert call["overrides"]["containerOverrides"] == [
        {"name": "probe", "command": ["probe-all", "--timeout", "3", "beta=vpce-1.example:8081"]}
    ]
    assert result.evidence["url"] == "http://vpce-1.example:8081/health"
    assert result.evidence["output"] == ["ok: http://127.3.0.1:8081/health said so (3.0 ms)"]


@pytest.mark.parametrize(("code", "outcome"), [(10, "unreachable"), (13, "wrong-service")])
def test_positive_probe_fails_on_any_other_exit(
    runtime: FakeRuntime, lines: Lines, code: int, outcome: str
) -> None:
    lines.codes = {"beta": code}
    runtime.clients[("a", "ec2")] = endpoint_ec2("available")
    runtime.clients[("a", "ecs")] = ecs(0)
    result = positive(runtime)
    assert (result.status, result.evidence["outcome"]) == ("fail", outcome)
    assert result.evidence["exit_code"] == code


def test_positive_probe_not_started_through_a_dead_endpoint(runtime: FakeRuntime) -> None:
    runtime.clients[("a", "ec2")] = endpoint_ec2("rejected")
    runtime.clients[("a", "ecs")] = client = ecs(0)
    result = positive(runtime)
    assert result.status == "fail"
    assert "rejected" in result.message
    assert client.calls == []


@pytest.mark.parametrize(
    ("code", "status"), [(10, "pass"), (11, "pass"), (0, "fail"), (12, "fail")]
)
def test_negative_probe_passes_only_when_nothing_answers(
    runtime: FakeRuntime, lines: Lines, code: int, status: str
) -> None:
    lines.codes = {"beta": code}
    runtime.clients[("c", "ecs")] = client = ecs(0)
    result = negative(runtime, "gamma", "beta")
    assert result.status == status
    command = client.calls[0][1]["overrides"]["containerOverrides"][0]["command"]
    assert "beta=unit-beta-1.us-east-1.elb.amazonaws.com:8081" in command


def test_a_probe_task_that_never_ran_proves_no_isolation(
    runtime: FakeRuntime, lines: Lines
) -> None:
    runtime.clients[("c", "ecs")] = ecs(None)  # stopped before its container ran
    result = negative(runtime, "gamma", "beta")
    assert result.status == "fail" and "isolation unproven" in result.message


def test_a_target_missing_from_the_output_fails(runtime: FakeRuntime, lines: Lines) -> None:
    lines.codes = {}
    runtime.clients[("c", "ecs")] = ecs(0)
    result = negative(runtime, "gamma", "beta")
    assert result.status == "fail"
    assert "exited 0 without a result for beta" in result.message


def test_output_without_the_done_line_counts_for_nothing(
    runtime: FakeRuntime, lines: Lines
) -> None:
    lines.codes, lines.done = {"beta": 10}, False  # e.g. the log was cut short
    runtime.clients[("c", "ecs")] = ecs(0)
    assert negative(runtime, "gamma", "beta").status == "fail"


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


def test_without_a_recorded_probe_task_definition_nothing_runs(runtime: FakeRuntime) -> None:
    runtime.record("platform:c", ClusterName="meshlink-unit")  # deployed before probe tasks
    runtime.clients[("c", "ecs")] = client = ecs(0)
    result = negative(runtime, "gamma", "beta")
    assert result.status == "fail"
    assert "no recorded probe task definition (run meshlink up to add it)" in result.message
    assert client.calls == []


def test_one_task_per_consumer_serves_all_its_checks(tmp_path: Path, lines: Lines) -> None:
    rt = FakeRuntime(topology(CHAIN), tmp_path)
    for account in ("a", "b", "c"):
        rt.record(f"platform:{account}", ClusterName="k", ProbeTaskDefinitionArn="td-probe")
        rt.record(f"network:{account}", private_subnet_ids=[f"subnet-{account}"])
    for service in ("x", "y", "z"):
        rt.record(
            f"edge:{service}",
            TaskSecurityGroupId=f"sg-{service}",
            LoadBalancerDnsName=f"nlb-{service}.example",
        )
    rt.record("endpoints:x", EndpointYId="vpce-y", EndpointYDns="vpce-y.example")
    rt.clients[("a", "ec2")] = Stub(
        describe_vpc_endpoints={"VpcEndpoints": [{"VpcEndpointId": "vpce-y", "State": "available"}]}
    )
    rt.clients[("a", "ecs")] = client = ecs(0)
    lines.codes = {"y": 0, "z": 10}
    ctx = context(rt)
    edge = traffic.check_positive(
        ctx, Verdict("traffic.positive", "traffic", Subject.edge("x", "y"))
    )
    pair = traffic.check_negative(
        ctx, Verdict("traffic.negative", "traffic", Subject.pair("x", "z"))
    )
    assert (edge.status, pair.status) == ("pass", "pass")
    runs = [call for name, call in client.calls if name == "run_task"]
    assert len(runs) == 1
    assert runs[0]["overrides"]["containerOverrides"][0]["command"][3:] == [
        "y=vpce-y.example:8081",
        "z=nlb-z.example:8082",
    ]
    assert edge.evidence["task_arn"] == pair.evidence["task_arn"] == "arn:task/1"


CHAIN = """\
name: unit
region: us-east-1
target: local
accounts:
  a: { id: "111111111111", vpc_cidr: 10.1.0.0/16 }
  b: { id: "222222222222", vpc_cidr: 10.2.0.0/16 }
  c: { id: "333333333333", vpc_cidr: 10.3.0.0/16 }
services:
  x: { account: a, port: 8080, consumes: [y] }
  y: { account: b, port: 8081, consumes: [z] }
  z: { account: c, port: 8082 }
"""


def test_targets_beyond_the_override_limit_get_another_task(runtime: FakeRuntime) -> None:
    ctx = context(runtime)
    host = "vpce-0123456789abcdef0-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com"
    targets = [
        probes.ProbeTarget("negative", "alpha", f"service-{i:03d}", host, 8080) for i in range(200)
    ]
    parts = probes.chunks(ctx, targets)
    assert len(parts) == 3
    assert [t for part in parts for t in part] == targets
    for part in parts:
        overrides = {
            "containerOverrides": [{"name": "probe", "command": probes.probe_command(ctx, part)}]
        }
        assert len(json.dumps(overrides)) <= probes.OVERRIDES_BUDGET
    assert len(probes.chunks(ctx, targets[:60])) == 1  # a consumer of 60 peers: one task


def test_a_probe_that_never_stops_is_stopped(runtime: FakeRuntime, lines: Lines) -> None:
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


def test_probe_image_registers_a_revision_for_the_run_and_releases_it(
    runtime: FakeRuntime, lines: Lines
) -> None:
    lines.codes = {"beta": 0}
    runtime.clients[("a", "ec2")] = endpoint_ec2("available")
    recorded = {
        "family": "unit_probe",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "executionRoleArn": "arn:role/exec",
        "containerDefinitions": [{"name": "probe", "image": "old@sha256:1", "essential": True}],
        "revision": 1,
        "status": "ACTIVE",
    }
    client = ecs(0)
    client._answers.update(
        describe_task_definition={"taskDefinition": recorded, "tags": []},
        register_task_definition={"taskDefinition": {"taskDefinitionArn": "td-probe-a:2"}},
        deregister_task_definition={},
    )
    runtime.clients[("a", "ecs")] = client
    ctx = context(runtime, probe_timeout=3, probe_image="registry.example/probe@sha256:2")
    verdict = Verdict("traffic.positive", "traffic", Subject.edge("alpha", "beta"))
    assert traffic.check_positive(ctx, verdict).status == "pass"
    calls = dict(client.calls)
    assert calls["describe_task_definition"] == {"taskDefinition": "td-probe-a"}
    registered = calls["register_task_definition"]
    assert registered["containerDefinitions"][0]["image"] == "registry.example/probe@sha256:2"
    assert registered["family"] == "unit_probe" and "revision" not in registered
    assert calls["run_task"]["taskDefinition"] == "td-probe-a:2"
    assert probe_image.release(ctx) == []
    assert calls_named(client, "deregister_task_definition") == [{"taskDefinition": "td-probe-a:2"}]


def calls_named(client: Stub, name: str) -> list[dict[str, Any]]:
    return [call for called, call in client.calls if called == name]


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
    target = probes.ProbeTarget("negative", "beta", "alpha", "x", 1)
    run = probes.run_task(ctx, "beta", [target])
    assert run.outcome == "cancelled"
    stops = calls_named(client, "stop_task")
    assert stops == [
        {"cluster": "meshlink-unit", "task": "arn:task/1", "reason": "meshlink verify: interrupted"}
    ]


def test_a_refused_probe_says_why_on_the_local_cloud(
    runtime: FakeRuntime, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlink.localcloud.dataplane import api

    asked: list[tuple[str, str | None]] = []
    reason = "no ingress rule of sg-e on eni-e admits eni-t (sg-alpha) on tcp/8081"

    def refusals(source: str, since: float, *, endpoint_url: str | None = None) -> Any:
        asked.append((source, endpoint_url))
        refusal = {"source": source, "address": "127.3.0.1", "port": 8081, "reason": reason}
        elsewhere = {**refusal, "address": "127.9.0.9", "reason": "another target's"}
        return [refusal, refusal, elsewhere]  # tried twice: one reason; not the other's

    monkeypatch.setattr(api, "refusals", refusals)
    lines.codes = {"beta": 10}
    runtime.endpoint_url = "http://localhost:4999"  # type: ignore[attr-defined]
    runtime.clients[("a", "ec2")] = endpoint_ec2("available")
    runtime.clients[("a", "ecs")] = ecs(0, address="127.1.0.7")
    result = positive(runtime)
    assert asked == [("127.1.0.7", "http://localhost:4999")]
    assert result.status == "fail"
    assert result.message == (
        f"probe unreachable (exit 10); the local cloud refused it: 127.3.0.1:8081: {reason}"
    )
    assert result.evidence["refused"] == [f"127.3.0.1:8081: {reason}"]


SAME_VPC = """\
name: unit
region: us-east-1
target: local
accounts:
  a: { id: "111111111111", vpc_cidr: 10.1.0.0/16 }
  b: { id: "222222222222", vpc_cidr: 10.2.0.0/16 }
services:
  x: { account: a, port: 8080, consumes: [y] }
  y: { account: b, port: 8081 }
  w: { account: a, port: 8082, consumes: [y] }
  v: { account: a, port: 8083 }
"""


@pytest.fixture()
def same_vpc(tmp_path: Path) -> FakeRuntime:
    """x and w consume y (account b); v, in x's account (so VPC), is consumed by no one."""
    rt = FakeRuntime(topology(SAME_VPC), tmp_path)
    for account in ("a", "b"):
        rt.record(f"platform:{account}", ClusterName=f"cl-{account}", ProbeTaskDefinitionArn="td")
        rt.record(f"network:{account}", vpc_id=f"vpc-{account}", private_subnet_ids=["s1"])
    for service in ("x", "y", "w", "v"):
        rt.record(f"edge:{service}", TaskSecurityGroupId=f"sg-{service}")
        rt.record(f"service:{service}", EcsServiceName=f"svc-{service}")
    rt.record("edge:y", TaskSecurityGroupId="sg-y", LoadBalancerDnsName="nlb-y.example")
    return rt


def running(*addresses: str) -> dict[str, Any]:
    return {
        "list_tasks": {"taskArns": [f"arn:task/{a}" for a in addresses]},
        "describe_tasks": {
            "tasks": [
                {
                    "taskArn": f"arn:task/{a}",
                    "lastStatus": "RUNNING",
                    "attachments": [{"details": [{"name": "privateIPv4Address", "value": a}]}],
                }
                for a in addresses
            ]
        },
    }


def test_a_non_edge_in_one_vpc_is_aimed_at_the_nlb_and_a_task(same_vpc: FakeRuntime) -> None:
    ctx = context(same_vpc)
    same_vpc.clients[("a", "ecs")] = Stub(**running("127.9.0.7"))
    # w and x share account a's VPC, and x is consumed by no one (no NLB): w's probe is
    # aimed at one of x's tasks, directly.
    targets = traffic.negative_targets(ctx, "w", "x")
    assert isinstance(targets, list)
    assert [(t.via, t.host, t.port, t.name) for t in targets] == [
        ("tasks", "127.9.0.7", 8080, "x.tasks")
    ]
    # y is in another VPC: its NLB only (a task there is unreachable by routing anyway).
    across = traffic.negative_targets(ctx, "v", "y")
    assert isinstance(across, list) and [t.via for t in across] == ["nlb"]


def test_an_unconsumed_service_without_a_running_task_is_skipped(same_vpc: FakeRuntime) -> None:
    same_vpc.clients[("a", "ecs")] = Stub(list_tasks={"taskArns": []})
    found = traffic.negative_targets(context(same_vpc), "w", "v")
    assert isinstance(found, traffic.Precheck) and found.status == "skipped"


def test_a_task_answering_directly_fails_the_pair(same_vpc: FakeRuntime, lines: Lines) -> None:
    probe_task = {
        "taskArn": "arn:task/probe",
        "lastStatus": "STOPPED",
        "containers": [{"exitCode": 0}],
    }
    service_tasks = running("127.9.0.8")

    def describe_tasks(tasks: list[str], **_: Any) -> dict[str, Any]:
        return (
            {"tasks": [probe_task]}
            if tasks == ["arn:task/probe"]
            else service_tasks["describe_tasks"]
        )

    same_vpc.clients[("a", "ecs")] = Stub(
        list_tasks=service_tasks["list_tasks"],
        describe_tasks=describe_tasks,
        run_task={"tasks": [{"taskArn": "arn:task/probe"}]},
        stop_task={},
    )
    verdict = Verdict("traffic.negative", "traffic", Subject.pair("w", "x"))
    lines.codes = {"x.tasks": 13}  # an answer (from the wrong service): isolation broken
    result = traffic.check_negative(context(same_vpc), verdict)
    assert result.status == "fail"
    assert result.message == "w reached x's tasks directly (wrong-service)"
    assert [p["via"] for p in result.evidence["probed"]] == ["tasks"]

    lines.codes = {"x.tasks": 10}
    result = traffic.check_negative(context(same_vpc), verdict)
    assert result.status == "pass"
    assert result.message.startswith("w cannot reach x at its tasks directly (unreachable)")
