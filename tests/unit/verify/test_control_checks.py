"""Decision logic of the control-plane checks, on canned API answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.verify import control_network, control_privatelink
from meshlink.verify.model import Subject, Verdict
from tests.unit.verify.fakes import ClientError, FakeRuntime, Stub, context, topology

USERS, NOTIFY = "111111111111", "222222222222"
EDGE = Subject.edge("user-service", "notification-service")


@pytest.fixture()
def runtime(tmp_path: Path) -> FakeRuntime:
    rt = FakeRuntime(topology(), tmp_path)
    rt.record(
        "edge:notification-service",
        ServiceId="vpce-svc-n",
        ServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-n",
        TaskSecurityGroupId="sg-ntask",
        LoadBalancerSecurityGroupId="sg-nlb",
        TargetGroupArn="tg-n",
        LoadBalancerArn="lb-n",
    )
    rt.record("edge:user-service", ServiceId="vpce-svc-u", TaskSecurityGroupId="sg-utask")
    rt.record(
        "endpoints:user-service",
        EndpointNotificationServiceId="vpce-1",
        EndpointNotificationServiceDns="vpce-1.example",
        EndpointNotificationServiceSecurityGroupId="sg-ep",
    )
    return rt


def service_verdict(check: str, name: str) -> Verdict:
    return Verdict(check, "control", Subject("service", name))


def edge_verdict(check: str) -> Verdict:
    return Verdict(check, "control", EDGE, [("user-service", "notification-service")])


def provider_ec2(principals: list[str], connections: list[dict[str, Any]] | None = None) -> Stub:
    return Stub(
        describe_vpc_endpoint_service_configurations={
            "ServiceConfigurations": [{"ServiceId": "vpce-svc-n", "AvailabilityZoneIds": ["z1"]}]
        },
        describe_vpc_endpoint_service_permissions={
            "AllowedPrincipals": [{"Principal": p} for p in principals]
        },
        describe_vpc_endpoint_connections={"VpcEndpointConnections": connections or []},
    )


@pytest.mark.parametrize(
    ("principals", "status", "words"),
    [
        ([f"arn:aws:iam::{USERS}:root"], "pass", "allows exactly"),
        ([f"arn:aws:iam::{USERS}:root", "*"], "fail", "(*)"),
        ([f"arn:aws:iam::{USERS}:root", "arn:aws:iam::999999999999:root"], "fail", "extra"),
        ([], "fail", "missing"),
    ],
)
def test_principals_must_be_exactly_the_consumers(
    runtime: FakeRuntime, principals: list[str], status: str, words: str
) -> None:
    runtime.clients[("notify", "ec2")] = provider_ec2(principals)
    verdict = service_verdict("endpoint-service.principals", "notification-service")
    result = control_privatelink.check_principals(context(runtime), verdict)
    assert (result.status, words in result.message) == (status, True), result.message
    assert result.evidence["expected"] == [f"arn:aws:iam::{USERS}:root"]


def test_principals_of_a_vanished_service_fail(runtime: FakeRuntime) -> None:
    gone = ClientError("InvalidVpcEndpointServiceId.NotFound")
    runtime.clients[("notify", "ec2")] = Stub(describe_vpc_endpoint_service_configurations=gone)
    verdict = service_verdict("endpoint-service.principals", "notification-service")
    result = control_privatelink.check_principals(context(runtime), verdict)
    assert result.status == "fail"
    assert "does not exist" in result.message


def connection(endpoint: str, owner: str, state: str) -> dict[str, Any]:
    return {"VpcEndpointId": endpoint, "VpcEndpointOwner": owner, "VpcEndpointState": state}


def test_only_meshlink_endpoints_may_be_connected(runtime: FakeRuntime) -> None:
    verdict = service_verdict("endpoint-service.unexpected-connections", "notification-service")
    runtime.clients[("notify", "ec2")] = provider_ec2(
        [], [connection("vpce-1", USERS, "available"), connection("vpce-x", "3" * 12, "rejected")]
    )
    assert control_privatelink.check_unexpected_connections(context(runtime), verdict).status == (
        "pass"
    )
    runtime.clients[("notify", "ec2")] = provider_ec2(
        [], [connection("vpce-1", USERS, "available"), connection("vpce-x", "3" * 12, "available")]
    )
    result = control_privatelink.check_unexpected_connections(context(runtime), verdict)
    assert result.status == "fail"
    assert result.evidence["unexpected"] == [
        {"endpoint_id": "vpce-x", "owner": "333333333333", "state": "available"}
    ]


def consumer_ec2(zone_id: str, groups: dict[str, list[dict[str, Any]]] | None = None) -> Stub:
    def security_groups(GroupIds: list[str]) -> dict[str, Any]:
        return {
            "SecurityGroups": [
                {"GroupId": g, "IpPermissions": (groups or {}).get(g, [])} for g in GroupIds
            ]
        }

    return Stub(
        describe_vpc_endpoints={
            "VpcEndpoints": [
                {
                    "VpcEndpointId": "vpce-1",
                    "State": "available",
                    "ServiceName": "com.amazonaws.vpce.us-east-1.vpce-svc-n",
                    "SubnetIds": ["subnet-a"],
                    "Groups": [{"GroupId": "sg-ep"}],
                }
            ]
        },
        # The consumer calls its zone "us-east-1a"; only the id says where it is.
        describe_subnets={
            "Subnets": [
                {
                    "SubnetId": "subnet-a",
                    "AvailabilityZone": "us-east-1a",
                    "AvailabilityZoneId": zone_id,
                }
            ]
        },
        describe_security_groups=security_groups,
    )


@pytest.mark.parametrize(("zone_id", "status"), [("z1", "pass"), ("z9", "fail")])
def test_zones_are_compared_by_id(runtime: FakeRuntime, zone_id: str, status: str) -> None:
    runtime.clients[("notify", "ec2")] = provider_ec2([])
    runtime.clients[("users", "ec2")] = consumer_ec2(zone_id)
    result = control_privatelink.check_zones(context(runtime), edge_verdict("endpoint.zones"))
    assert result.status == status
    assert result.evidence["endpoint_subnet_zone_ids"] == {"subnet-a": zone_id}


def test_endpoint_checks_of_a_deleted_endpoint(runtime: FakeRuntime) -> None:
    runtime.clients[("users", "ec2")] = Stub(
        describe_vpc_endpoints=ClientError("InvalidVpcEndpointId.NotFound")
    )
    ctx = context(runtime)
    available = control_privatelink.check_endpoint_available(
        ctx, edge_verdict("endpoint.available")
    )
    assert (available.status, available.message) == ("fail", "endpoint vpce-1 does not exist")
    zones = control_privatelink.check_zones(ctx, edge_verdict("endpoint.zones"))
    assert zones.status == "skipped"


def rule(port: int, **source: Any) -> dict[str, Any]:
    grant: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if "group" in source:
        grant["UserIdGroupPairs"] = [{"GroupId": source["group"]}]
    if "cidr" in source:
        grant["IpRanges"] = [{"CidrIp": source["cidr"]}]
    return grant


@pytest.mark.parametrize(
    ("rules", "status", "words"),
    [
        ([rule(8081, group="sg-utask")], "pass", "admits only sg-utask"),
        ([], "fail", "does not admit sg-utask"),
        ([rule(8080, group="sg-utask")], "fail", "also admits sg-utask"),
        ([rule(8081, group="sg-utask"), rule(8081, cidr="0.0.0.0/0")], "fail", "open to 0.0.0.0/0"),
        ([rule(8081, group="sg-utask"), rule(8081, cidr="10.1.0.0/16")], "fail", "10.1.0.0/16"),
        ([rule(8081, group="sg-utask"), rule(8081, group="sg-other")], "fail", "sg-other"),
        ([{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-utask"}]}], "fail", "also"),
    ],
)
def test_endpoint_security_group_admits_the_consumer_only(
    runtime: FakeRuntime, rules: list[dict[str, Any]], status: str, words: str
) -> None:
    runtime.clients[("users", "ec2")] = consumer_ec2("z1", {"sg-ep": rules})
    result = control_network.check_endpoint_security_group(
        context(runtime), edge_verdict("endpoint.security-group")
    )
    assert result.status == status, result.message
    assert words in result.message


def targets_client(states: dict[str, str], cross_zone: bool) -> Stub:
    return Stub(
        describe_target_health={
            "TargetHealthDescriptions": [
                {"Target": {"Id": ip, "Port": 8081}, "TargetHealth": {"State": s}}
                for ip, s in states.items()
            ]
        },
        describe_load_balancer_attributes={
            "Attributes": [
                {"Key": "load_balancing.cross_zone.enabled", "Value": str(cross_zone).lower()}
            ]
        },
    )


def provider_network(zones: dict[str, str]) -> Stub:
    """Target address -> zone id, through ENIs and subnets as EC2 describes them."""
    return Stub(
        describe_network_interfaces={
            "NetworkInterfaces": [
                {"PrivateIpAddress": ip, "SubnetId": f"subnet-{zone}"} for ip, zone in zones.items()
            ]
        },
        describe_subnets=lambda SubnetIds: {
            "Subnets": [{"SubnetId": s, "AvailabilityZoneId": s[7:]} for s in SubnetIds]
        },
    )


@pytest.mark.parametrize(
    ("healthy_zone", "cross_zone", "status"),
    [("z1", False, "pass"), ("z2", True, "pass"), ("z2", False, "fail")],
)
def test_targets_serve_the_endpoint_zone(
    runtime: FakeRuntime, healthy_zone: str, cross_zone: bool, status: str
) -> None:
    runtime.clients[("users", "ec2")] = consumer_ec2("z1")
    runtime.clients[("notify", "elbv2")] = targets_client(
        {"10.0.0.1": "healthy", "10.0.0.2": "unhealthy"}, cross_zone
    )
    runtime.clients[("notify", "ec2")] = provider_network({"10.0.0.1": healthy_zone})
    result = control_network.check_targets(context(runtime), edge_verdict("nlb.targets-healthy"))
    assert result.status == status, result.message


def test_no_healthy_target_fails(runtime: FakeRuntime) -> None:
    runtime.clients[("users", "ec2")] = consumer_ec2("z1")
    runtime.clients[("notify", "elbv2")] = targets_client({}, True)
    result = control_network.check_targets(context(runtime), edge_verdict("nlb.targets-healthy"))
    assert (result.status, result.message) == (
        "fail",
        "notification-service has no healthy target (0 registered)",
    )


def ecs_client(**service: Any) -> Stub:
    base = {
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": 2,
        "pendingCount": 0,
        "deployments": [{"status": "PRIMARY", "rolloutState": "COMPLETED", "runningCount": 2}],
    }
    return Stub(describe_services={"services": [{**base, **service}]})


@pytest.mark.parametrize(
    ("service", "status", "words"),
    [
        ({}, "pass", "2/2 tasks running"),
        ({"desiredCount": 0, "runningCount": 0}, "fail", "the topology says 2"),
        ({"runningCount": 1, "pendingCount": 1}, "fail", "1 of 2 tasks running"),
        (
            {"deployments": [{"rolloutState": "IN_PROGRESS"}, {"rolloutState": "COMPLETED"}]},
            "fail",
            "not stable",
        ),
        ({"status": "DRAINING"}, "fail", "is DRAINING"),
    ],
)
def test_ecs_service_at_its_desired_count(
    runtime: FakeRuntime, service: dict[str, Any], status: str, words: str
) -> None:
    runtime.record("service:notification-service", EcsServiceArn="arn:svc")
    runtime.record("platform:notify", ClusterName="meshlink-unit")
    runtime.clients[("notify", "ecs")] = ecs_client(**service)
    verdict = service_verdict("service.ecs", "notification-service")
    result = control_network.check_ecs_service(context(runtime), verdict)
    assert result.status == status
    assert words in result.message


def test_task_group_admits_only_the_nlb(runtime: FakeRuntime) -> None:
    verdict = service_verdict("service.task-security-group", "notification-service")
    runtime.clients[("notify", "ec2")] = Stub(
        describe_security_groups={
            "SecurityGroups": [
                {"GroupId": "sg-ntask", "IpPermissions": [rule(8081, group="sg-nlb")]}
            ]
        }
    )
    assert control_network.check_task_security_group(context(runtime), verdict).status == "pass"
    runtime.clients[("notify", "ec2")] = Stub(
        describe_security_groups={
            "SecurityGroups": [
                {
                    "GroupId": "sg-ntask",
                    "IpPermissions": [rule(8081, group="sg-nlb"), rule(8081, cidr="10.2.0.0/16")],
                }
            ]
        }
    )
    result = control_network.check_task_security_group(context(runtime), verdict)
    assert result.status == "fail"
    assert result.evidence["broader"][0]["cidr"] == "10.2.0.0/16"
