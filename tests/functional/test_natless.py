"""A mesh without NAT gateways on Fargate: the AWS service endpoints make it work.

Without NAT, a Fargate task (platform 1.4) reaches ECR and CloudWatch Logs only through
VPC endpoints. With `network.aws_service_endpoints: []` the local cloud stops the tasks
with AWS's ResourceInitializationError and `up` reports that reason as the service's
error (exit 1, well before its deadline); with the default (the endpoints every VPC
without NAT gets), `up` and `verify` pass and each VPC has the interface endpoints with
private DNS in its private subnets and the s3 gateway endpoint on its private tables.
The Terraform module builds the same endpoints (one Terraform run: the network only).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.engines.terraform.cli_config import ENV_MIRROR
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json
from tests.functional.terraform_support import real_mirror, require_aws_provider

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

ACCOUNTS = {"a": "611111111111", "b": "622222222222"}
TOPOLOGY = """\
name: {name}
region: us-east-1
target: local
network:
  engine: cdk
  az_count: 1
  nat_gateways: none
{endpoints}accounts:
  a: {{ id: "611111111111", vpc_cidr: 10.61.0.0/16 }}
  b: {{ id: "622222222222", vpc_cidr: 10.62.0.0/16 }}
services:
  web: {{ account: a, port: 8080, desired_count: 1, consumes: [api] }}
  api: {{ account: b, port: 8081, desired_count: 1 }}
"""
REASON = "ResourceInitializationError: unable to pull secrets or registry auth"


def write(directory: Path, name: str, endpoints: str = "") -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(TOPOLOGY.format(name=name, endpoints=endpoints))
    return path


@pytest.fixture()
def down_after(local_cloud: LocalCloudInfo) -> Iterator[list[Path]]:
    made: list[Path] = []
    yield made
    for path in made:
        code, out, err = cli(path, "down", "--yes")
        assert code == 0, out + err


def endpoints_of(sessions: SessionFactory, account: str) -> dict[str, dict[str, Any]]:
    ec2 = sessions.client(account, "ec2")
    found = ec2.describe_vpc_endpoints()["VpcEndpoints"]
    return {
        e["ServiceName"].removeprefix("com.amazonaws.us-east-1."): e
        for e in found
        if e["State"] == "available" and not e["ServiceName"].startswith("com.amazonaws.vpce.")
    }


def test_without_endpoints_up_fails_with_ecs_reason(
    local_cloud: LocalCloudInfo, tmp_path: Path, down_after: list[Path]
) -> None:
    path = write(tmp_path, "natless-bare", "  aws_service_endpoints: []\n")
    down_after.append(path)
    code, out, err = cli(path, "up", "--yes")
    assert code == 1, out + err
    failed = [line for line in (out + err).splitlines() if line.startswith("✗ service:web:")]
    assert failed and REASON in failed[0], out + err
    assert "Please check your task network configuration" in failed[0]
    # Reported from the stopped tasks, not found by waiting out the stability deadline.
    assert "timed out" not in failed[0] and "did not become stable" not in failed[0]
    sessions = SessionFactory("local", "us-east-1", local_cloud.endpoint_url)
    assert endpoints_of(sessions, ACCOUNTS["a"]) == {}
    ecs = sessions.client(ACCOUNTS["a"], "ecs")
    cluster = ecs.list_clusters()["clusterArns"][0]
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    assert tasks and all(t["stoppedReason"].startswith(REASON) for t in tasks)
    assert {t["stopCode"] for t in tasks} == {"TaskFailedToStart"}


def test_default_endpoints_let_a_natless_mesh_run(
    local_cloud: LocalCloudInfo, tmp_path: Path, down_after: list[Path]
) -> None:
    path = write(tmp_path, "natless")
    down_after.append(path)
    code, plan = cli_json(path, "plan")
    assert code == 0, plan
    code, out, err = cli(path, "up", "--yes")
    assert code == 0, out + err
    code, report = cli_json(path, "verify")
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0, failed
    sessions = SessionFactory("local", "us-east-1", local_cloud.endpoint_url)
    for account in ACCOUNTS.values():
        ec2 = sessions.client(account, "ec2")
        subnets = ec2.describe_subnets(
            Filters=[{"Name": "tag:meshlink:tier", "Values": ["private"]}]
        )["Subnets"]
        private = {s["SubnetId"] for s in subnets}
        tables = ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": sorted(private)}]
        )["RouteTables"]
        found = endpoints_of(sessions, account)
        assert sorted(found) == ["ecr.api", "ecr.dkr", "logs", "s3"]
        for service in ("ecr.api", "ecr.dkr", "logs"):
            endpoint = found[service]
            assert endpoint["VpcEndpointType"] == "Interface"
            assert endpoint["PrivateDnsEnabled"] is True
            assert set(endpoint["SubnetIds"]) == private
        gateway = found["s3"]
        assert gateway["VpcEndpointType"] == "Gateway"
        assert set(gateway["RouteTableIds"]) == {t["RouteTableId"] for t in tables}
        # No route leaves the VPC but through the s3 gateway endpoint.
        for table in tables:
            targets = {r.get("GatewayId", r.get("NatGatewayId")) for r in table["Routes"]}
            assert targets == {"local", gateway["VpcEndpointId"]}


def test_terraform_module_creates_the_endpoints(
    local_cloud: LocalCloudInfo, tmp_path: Path, down_after: list[Path]
) -> None:
    """The one Terraform run: `up --only network` with the module, against the local cloud."""
    require_aws_provider()
    path = tmp_path / "natless-tf.yaml"
    path.write_text(
        "name: natless-tf\nregion: us-east-1\ntarget: local\n"
        "network: { engine: terraform, az_count: 1, nat_gateways: none, flow_logs: false }\n"
        f'accounts:\n  a: {{ id: "{ACCOUNTS["a"]}", vpc_cidr: 10.63.0.0/16 }}\n'
        "services:\n  web: { account: a, port: 8080, desired_count: 1 }\n"
    )
    with pytest.MonkeyPatch.context() as patch:
        # A cache of its own: the suite's must not hold the provider (terraform_support).
        patch.setenv("TF_PLUGIN_CACHE_DIR", str(tmp_path / "plugin-cache"))
        mirror = real_mirror()
        if mirror is not None:
            patch.setenv(ENV_MIRROR, str(mirror))
        code, out, err = cli(path, "up", "--yes", "--only", "network")
        assert code == 0, out + err
        assert "network via terraform" in out
        sessions = SessionFactory("local", "us-east-1", local_cloud.endpoint_url)
        for account in [ACCOUNTS["a"]]:
            found = endpoints_of(sessions, account)
            assert sorted(found) == ["ecr.api", "ecr.dkr", "logs", "s3"]
            assert all(found[s]["PrivateDnsEnabled"] for s in ("ecr.api", "ecr.dkr", "logs"))
            assert found["s3"]["VpcEndpointType"] == "Gateway" and found["s3"]["RouteTableIds"]
            groups = {g["GroupId"] for s in ("ecr.api", "logs") for g in found[s]["Groups"]}
            (group,) = sessions.client(account, "ec2").describe_security_groups(
                GroupIds=sorted(groups)
            )["SecurityGroups"]
            assert {p["FromPort"] for p in group["IpPermissions"]} == {443}
            assert group["IpPermissionsEgress"] == []
        code, out, err = cli(path, "down", "--yes", "--only", "network")
        assert code == 0, out + err
        assert endpoints_of(sessions, ACCOUNTS["a"]) == {}
