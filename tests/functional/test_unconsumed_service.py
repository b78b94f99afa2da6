"""A service nobody consumes gets no NLB, target group, listener or endpoint service.

web (account a) consumes api (account b); nobody consumes web. `up` gives web only its
task security group and an ECS service without a load balancer, and `verify` passes.
Making api consume web adds web's NLB and endpoint service on the next `up`; taking the
consumer away again removes them (its live connection rejected first, as AWS demands).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshlink.aws.sessions import SessionFactory
from meshlink.cli.app import app
from meshlink.localcloud.info import LocalCloudInfo

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

MESH = "unconsumed"
WEB_ACCOUNT = "511111111111"
TOPOLOGY = f"""\
name: {MESH}
region: us-east-1
target: local
network: {{ engine: cdk, az_count: 2, nat_gateways: none }}
accounts:
  a: {{ id: "{WEB_ACCOUNT}", vpc_cidr: 10.51.0.0/16 }}
  b: {{ id: "522222222222", vpc_cidr: 10.52.0.0/16 }}
services:
  web: {{ account: a, port: 8080, desired_count: 1, consumes: [api] }}
  api: {{ account: b, port: 8081, desired_count: 1 }}
"""
CONSUMED = TOPOLOGY.replace(
    "api: { account: b, port: 8081, desired_count: 1 }",
    "api: { account: b, port: 8081, desired_count: 1, consumes: [web] }",
)
runner = CliRunner()


def cli(path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["-f", str(path), *args, "--workdir", str(path.parent)], catch_exceptions=False
    )
    return result.exit_code, result.stdout


def verify(path: Path) -> dict[str, Any]:
    code, stdout = cli(path, "--json", "verify")
    report: dict[str, Any] = json.loads(stdout)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0, json.dumps(failed, indent=1)
    return report


def subjects(report: dict[str, Any], check: str) -> dict[str, dict[str, Any]]:
    return {c["subject"]["name"]: c for c in report["checks"] if c["check"] == check}


@pytest.fixture(scope="module")
def topology(
    local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("unconsumed") / "mesh.yaml"
    path.write_text(TOPOLOGY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
        patch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
        yield path
        code, out = cli(path, "down", "--yes")
        assert code == 0, out


def web_exposure(local_cloud: LocalCloudInfo) -> dict[str, list[str]]:
    """What account a (web's, and nothing else's) has of an exposed service, live."""
    sessions = SessionFactory("local", "us-east-1", local_cloud.endpoint_url)
    elbv2 = sessions.client(WEB_ACCOUNT, "elbv2")
    ec2 = sessions.client(WEB_ACCOUNT, "ec2")
    configs = ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]
    return {
        "nlbs": [lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]],
        "target_groups": [
            g["TargetGroupArn"] for g in elbv2.describe_target_groups()["TargetGroups"]
        ],
        "endpoint_services": [c["ServiceId"] for c in configs],
    }


def test_an_unconsumed_service_is_exposed_only_while_consumed(
    topology: Path, local_cloud: LocalCloudInfo
) -> None:
    code, out = cli(topology, "up", "--yes")
    assert code == 0, out
    assert web_exposure(local_cloud) == {"nlbs": [], "target_groups": [], "endpoint_services": []}
    report = verify(topology)
    assert set(subjects(report, "endpoint-service.principals")) == {"api"}
    task_group = subjects(report, "service.task-security-group")["web"]
    assert task_group["status"] == "pass"
    assert task_group["evidence"]["rules"] == []
    assert subjects(report, "service.ecs")["web"]["status"] == "pass"
    negative = subjects(report, "traffic.negative")["api->web"]
    assert negative["status"] == "skipped"
    assert "consumed by no one" in negative["message"]
    assert subjects(report, "traffic.positive")["web->api"]["status"] == "pass"

    topology.write_text(CONSUMED)
    code, out = cli(topology, "up", "--yes")
    assert code == 0, out
    exposed = web_exposure(local_cloud)
    assert len(exposed["nlbs"]) == len(exposed["target_groups"]) == 1, exposed
    assert len(exposed["endpoint_services"]) == 1, exposed
    report = verify(topology)
    assert subjects(report, "traffic.positive")["api->web"]["status"] == "pass"
    assert subjects(report, "nlb.targets-healthy")["api->web"]["status"] == "pass"
    assert subjects(report, "endpoint-service.principals")["web"]["status"] == "pass"

    topology.write_text(TOPOLOGY)
    code, out = cli(topology, "up", "--yes")
    assert code == 0, out
    assert web_exposure(local_cloud) == {"nlbs": [], "target_groups": [], "endpoint_services": []}
    verify(topology)
