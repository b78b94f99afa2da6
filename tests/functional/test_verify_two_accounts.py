"""`meshlink verify` on the real local cloud: all green after `up`, then broken by hand.

One deployment of examples/two-accounts.yaml (its own mesh name) for the module. Each
test breaks one thing through boto3 the way an operator might, asserts that verify
fails on exactly the right check and subject and passes everything else, then
repairs it. The irreversible break (a deleted endpoint) runs last.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshlink.aws.sessions import SessionFactory
from meshlink.cli.app import app
from meshlink.localcloud.info import LocalCloudInfo
from tests.helpers import EXAMPLES

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

MESH = "vfytwo"
USERS, NOTIFY, STRANGER = "111111111111", "222222222222", "333333333333"
USER_TO_NOTIFY = "user-service->notification-service"
NOTIFY_TO_USER = "notification-service->user-service"
runner = CliRunner()


class Mesh:
    """The deployed mesh: its topology file, journal outputs and boto3 clients."""

    def __init__(self, topology: Path, sessions: SessionFactory) -> None:
        self.topology = topology
        self.sessions = sessions

    def cli(self, *args: str) -> tuple[int, str, str]:
        result = runner.invoke(
            app,
            ["-f", str(self.topology), *args, "--workdir", str(self.topology.parent)],
            catch_exceptions=False,
        )
        return result.exit_code, result.stdout, result.stderr

    def verify(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, stdout, stderr = self.cli("--json", "verify", *args)
        assert stdout.strip(), stderr
        return code, json.loads(stdout)

    def outputs(self, node: str) -> dict[str, Any]:
        journal = self.topology.parent / ".meshlink" / MESH / "local" / "journal.json"
        data = json.loads(journal.read_text())
        return dict(data["nodes"][node]["outputs"])

    def ec2(self, account: str) -> Any:
        return self.sessions.client(account, "ec2")


def failures(report: dict[str, Any]) -> set[tuple[str, str]]:
    """(check, subject name) of every failed check."""
    return {(c["check"], c["subject"]["name"]) for c in report["checks"] if c["status"] == "fail"}


def result(report: dict[str, Any], check: str, subject: str) -> dict[str, Any]:
    found = [c for c in report["checks"] if c["check"] == check and c["subject"]["name"] == subject]
    assert len(found) == 1, (check, subject, found)
    return found[0]


def assert_fails_only(report: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    """Exactly `expected` failed, and every other check passed (or was skipped on purpose)."""
    assert failures(report) == expected, json.dumps(
        [c for c in report["checks"] if c["status"] == "fail"], indent=1
    )
    assert report["ok"] is False
    passed = report["summary"]["pass"]
    assert passed + len(expected) + report["summary"]["skipped"] == len(report["checks"])


@pytest.fixture(scope="module")
def mesh(local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    directory = tmp_path_factory.mktemp("verify-two")
    text = (EXAMPLES / "two-accounts.yaml").read_text().replace("name: shop", f"name: {MESH}")
    text = text.replace("engine: auto", "engine: cdk")
    topology = directory / "mesh.yaml"
    topology.write_text(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
        patch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
        deployed = Mesh(topology, SessionFactory("local", "us-east-1", local_cloud.endpoint_url))
        code, stdout, stderr = deployed.cli("up", "--yes")
        assert code == 0, stdout + stderr
        yield deployed
        deployed.cli("down", "--yes")


def test_everything_passes_after_up(mesh: Mesh, tmp_path: Path) -> None:
    junit = tmp_path / "verify.xml"
    code, report = mesh.verify("--deep", "--junit", str(junit))
    assert code == 0, failures(report)
    assert report["ok"] is True
    assert report["summary"]["fail"] == 0
    assert report["summary"]["probes"] == 2  # two edges, no non-edge in this mesh
    assert {e["state"] for e in report["edges"]} == {"pass"}
    positive = result(report, "traffic.positive", USER_TO_NOTIFY)
    assert positive["evidence"]["exit_code"] == 0
    assert "vpce" in positive["evidence"]["url"]
    outsider = result(report, "privatelink.outsider-refused", "notification-service")
    assert outsider["evidence"]["error_code"] == "InvalidServiceName"
    # The zone check compares ids: the accounts name their zones differently.
    zones = result(report, "endpoint.zones", USER_TO_NOTIFY)["evidence"]
    assert set(zones["endpoint_subnet_zone_ids"].values()) <= set(zones["service_zone_ids"])
    assert 'failures="0"' in junit.read_text()
    # The table people see: every check, grouped by edge, and the verdict.
    code, stdout, _ = mesh.cli("verify")
    assert code == 0
    assert "user-service → notification-service" in stdout
    assert "verify passed" in stdout


def test_principal_widened_to_star(mesh: Mesh) -> None:
    service_id = mesh.outputs("edge:notification-service")["ServiceId"]
    ec2 = mesh.ec2(NOTIFY)
    ec2.modify_vpc_endpoint_service_permissions(ServiceId=service_id, AddAllowedPrincipals=["*"])
    try:
        code, report = mesh.verify("--only", "control")
        assert code == 1
        assert_fails_only(report, {("endpoint-service.principals", "notification-service")})
        evidence = result(report, "endpoint-service.principals", "notification-service")
        assert evidence["evidence"]["extra"] == ["*"]
        edges = {(e["consumer"], e["provider"]): e["state"] for e in report["edges"]}
        assert edges[("user-service", "notification-service")] == "fail"
        assert edges[("notification-service", "user-service")] == "pass"
    finally:
        ec2.modify_vpc_endpoint_service_permissions(
            ServiceId=service_id, RemoveAllowedPrincipals=["*"]
        )


def test_endpoint_security_group_rule_removed(mesh: Mesh, tmp_path: Path) -> None:
    outputs = mesh.outputs("endpoints:user-service")
    group = outputs["EndpointNotificationServiceSecurityGroupId"]
    task_group = mesh.outputs("edge:user-service")["TaskSecurityGroupId"]
    permission = {
        "IpProtocol": "tcp",
        "FromPort": 8081,
        "ToPort": 8081,
        "UserIdGroupPairs": [{"GroupId": task_group}],
    }
    ec2 = mesh.ec2(USERS)
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[permission])
    try:
        junit = tmp_path / "verify.xml"
        code, report = mesh.verify("--junit", str(junit))
        assert code == 1
        assert_fails_only(
            report,
            {("endpoint.security-group", USER_TO_NOTIFY), ("traffic.positive", USER_TO_NOTIFY)},
        )
        probe = result(report, "traffic.positive", USER_TO_NOTIFY)
        assert probe["evidence"]["outcome"] in ("unreachable", "timeout"), probe
        # Why: the data plane's refusal names the group, the endpoint's ENI and the port.
        why = re.compile(
            rf"no ingress rule of {group} on eni-\w+ admits eni-\w+ \({task_group}\) on tcp/8081"
        )
        assert why.search(probe["message"]), probe["message"]
        assert any(why.search(line) for line in probe["evidence"]["refused"]), probe
        assert why.search(junit.read_text()), junit.read_text()
        # ... and the table people read says it too (folded over lines: compare unspaced).
        code, stdout, stderr = mesh.cli("verify")
        assert code == 1
        assert why.search(stderr), stderr
        unspaced = re.compile(
            rf"noingressruleof{group}oneni-\w+admitseni-\w+\({task_group}\)ontcp/8081"
        )
        assert unspaced.search(re.sub(r"[\s│]", "", stdout)), stdout
    finally:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])


def test_endpoint_security_group_opened_to_the_world(mesh: Mesh) -> None:
    group = mesh.outputs("endpoints:user-service")["EndpointNotificationServiceSecurityGroupId"]
    permission = {
        "IpProtocol": "tcp",
        "FromPort": 8081,
        "ToPort": 8081,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
    }
    ec2 = mesh.ec2(USERS)
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    try:
        code, report = mesh.verify("--only", "control")
        assert code == 1
        assert_fails_only(report, {("endpoint.security-group", USER_TO_NOTIFY)})
        message = result(report, "endpoint.security-group", USER_TO_NOTIFY)["message"]
        assert "0.0.0.0/0" in message
    finally:
        ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[permission])


def test_extra_endpoint_from_an_unexpected_account(mesh: Mesh) -> None:
    """Allowed for a moment, connected, then removed from the principals: it stays."""
    edge = mesh.outputs("edge:notification-service")
    service_id, service_name = edge["ServiceId"], edge["ServiceName"]
    provider = mesh.ec2(NOTIFY)
    stranger = mesh.ec2(STRANGER)
    principal = f"arn:aws:iam::{STRANGER}:root"
    provider.modify_vpc_endpoint_service_permissions(
        ServiceId=service_id, AddAllowedPrincipals=[principal]
    )
    zone_ids = edge["ZoneIds"].split(",")
    vpc = stranger.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = stranger.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    subnet = next(s for s in subnets["Subnets"] if s["AvailabilityZoneId"] in zone_ids)
    endpoint = stranger.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=vpc["VpcId"],
        ServiceName=service_name,
        SubnetIds=[subnet["SubnetId"]],
    )["VpcEndpoint"]["VpcEndpointId"]
    provider.accept_vpc_endpoint_connections(ServiceId=service_id, VpcEndpointIds=[endpoint])
    provider.modify_vpc_endpoint_service_permissions(
        ServiceId=service_id, RemoveAllowedPrincipals=[principal]
    )
    try:
        code, report = mesh.verify("--only", "control")
        assert code == 1
        assert_fails_only(
            report, {("endpoint-service.unexpected-connections", "notification-service")}
        )
        found = result(report, "endpoint-service.unexpected-connections", "notification-service")
        assert found["evidence"]["unexpected"] == [
            {"endpoint_id": endpoint, "owner": STRANGER, "state": "available"}
        ]
    finally:
        provider.reject_vpc_endpoint_connections(ServiceId=service_id, VpcEndpointIds=[endpoint])
        stranger.delete_vpc_endpoints(VpcEndpointIds=[endpoint])


def test_connection_rejected(mesh: Mesh) -> None:
    service_id = mesh.outputs("edge:notification-service")["ServiceId"]
    endpoint = mesh.outputs("endpoints:user-service")["EndpointNotificationServiceId"]
    provider = mesh.ec2(NOTIFY)
    provider.reject_vpc_endpoint_connections(ServiceId=service_id, VpcEndpointIds=[endpoint])
    try:
        code, report = mesh.verify()
        assert code == 1
        assert_fails_only(
            report,
            {
                ("endpoint.available", USER_TO_NOTIFY),
                ("endpoint.connection-accepted", USER_TO_NOTIFY),
                ("traffic.positive", USER_TO_NOTIFY),
            },
        )
        accepted = result(report, "endpoint.connection-accepted", USER_TO_NOTIFY)
        assert accepted["evidence"]["state"] == "rejected"
    finally:
        provider.accept_vpc_endpoint_connections(ServiceId=service_id, VpcEndpointIds=[endpoint])


def test_provider_scaled_to_zero(mesh: Mesh) -> None:
    cluster = mesh.outputs("platform:notify")["ClusterName"]
    service = mesh.outputs("service:notification-service")["EcsServiceArn"]
    ecs = mesh.sessions.client(NOTIFY, "ecs")
    ecs.update_service(cluster=cluster, service=service, desiredCount=0)
    try:
        deadline = time.monotonic() + 30
        while ecs.describe_services(cluster=cluster, services=[service])["services"][0][
            "runningCount"
        ]:
            assert time.monotonic() < deadline, "the data plane did not stop the tasks"
            time.sleep(0.5)
        code, report = mesh.verify()
        assert code == 1
        assert_fails_only(
            report,
            {
                ("service.ecs", "notification-service"),
                ("nlb.targets-healthy", USER_TO_NOTIFY),
                ("traffic.positive", USER_TO_NOTIFY),
            },
        )
        ecs_check = result(report, "service.ecs", "notification-service")["evidence"]
        assert (ecs_check["desired"], ecs_check["topology_desired"]) == (0, 2)
    finally:
        ecs.update_service(cluster=cluster, service=service, desiredCount=2)
    # Back to green: verify waits for the new tasks' first health checks (settling).
    code, report = mesh.verify("--only", "control")
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0, json.dumps(failed, indent=1)


def test_endpoint_deleted(mesh: Mesh) -> None:
    """Last: the endpoints stack would have to be redeployed to bring it back."""
    endpoint = mesh.outputs("endpoints:notification-service")["EndpointUserServiceId"]
    mesh.ec2(NOTIFY).delete_vpc_endpoints(VpcEndpointIds=[endpoint])
    code, report = mesh.verify()
    assert code == 1
    assert_fails_only(
        report,
        {
            ("endpoint.available", NOTIFY_TO_USER),
            ("endpoint.connection-accepted", NOTIFY_TO_USER),
            ("traffic.positive", NOTIFY_TO_USER),
        },
    )
    skipped = {c["check"] for c in report["checks"] if c["status"] == "skipped"}
    assert skipped == {"endpoint.zones", "endpoint.security-group"}
    # graph --verify draws the broken edge red and the other green.
    code, stdout, _ = mesh.cli("graph", "--verify")
    assert code == 0
    assert "n_notification_service -->|fail| n_user_service" in stdout
    assert "n_user_service -->|pass| n_notification_service" in stdout
