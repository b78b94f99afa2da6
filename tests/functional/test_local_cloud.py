"""The local cloud process: admin API, multi-account identity, per-account AZ ids, reject."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshlink.aws.sessions import SessionFactory
from meshlink.topology.model import Account
from tests.functional.test_local_privatelink import PROVIDER, deploy, network, outputs

pytestmark = [pytest.mark.localcloud]


def admin(local_cloud: Any, path: str) -> Any:
    with urllib.request.urlopen(f"{local_cloud.endpoint_url}/_meshlink{path}", timeout=10) as r:
        return json.loads(r.read())


def test_admin_health_version_summary(local_cloud: Any, local_sessions: SessionFactory) -> None:
    health = admin(local_cloud, "/health")
    assert health["status"] == "ok" and health["pid"] == local_cloud.pid
    versions = admin(local_cloud, "/version")
    assert versions["moto"] == "5.2.5"
    local_sessions.client("510000000001", "ec2").create_vpc(CidrBlock="10.51.0.0/16")
    summary = admin(local_cloud, "/summary")
    assert summary["accounts"]["510000000001"]["us-east-1"]["vpcs"] == 1
    assert summary["totals"]["vpcs"] >= 1
    assert {"/health", "/version", "/summary", "/routes"} <= set(
        admin(local_cloud, "/routes")["routes"]
    )


def test_admin_unknown_route_is_404(local_cloud: Any) -> None:
    with pytest.raises(urllib.error.HTTPError) as error:
        admin(local_cloud, "/nope")
    assert error.value.code == 404


def test_assume_role_into_any_account(local_sessions: SessionFactory) -> None:
    for account in ("111111111111", "999999999999", "000000000042"):
        identity = local_sessions.client(account, "sts").get_caller_identity()
        assert identity["Account"] == account
        assert identity["Arn"].startswith(f"arn:aws:sts::{account}:assumed-role/MeshlinkDeploy/")


def test_zone_ids_differ_between_accounts_and_match_subnets(local_sessions: SessionFactory) -> None:
    maps = {}
    for account in ("111111111111", "222222222222", "333333333333"):
        ec2 = local_sessions.client(account, "ec2")
        zones = ec2.describe_availability_zones()["AvailabilityZones"]
        maps[account] = {z["ZoneName"]: z["ZoneId"] for z in zones}
        assert sorted(maps[account].values()) == sorted(set(maps[account].values()))
        vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.60.1.0/24", AvailabilityZone="us-east-1a"
        )["Subnet"]
        assert subnet["AvailabilityZoneId"] == maps[account]["us-east-1a"]
        by_id = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.60.2.0/24", AvailabilityZoneId="use1-az1"
        )["Subnet"]
        assert by_id["AvailabilityZoneId"] == "use1-az1"
        assert maps[account][by_id["AvailabilityZone"]] == "use1-az1"
    assert len({tuple(sorted(m.items())) for m in maps.values()}) == 3
    again = local_sessions.client("111111111111", "ec2").describe_availability_zones()
    assert {z["ZoneName"]: z["ZoneId"] for z in again["AvailabilityZones"]} == maps["111111111111"]


def test_role_principal_reject_and_no_acceptance(local_sessions: SessionFactory) -> None:
    provider, consumer = "610000000001", "620000000002"
    nets = {
        a: network(local_sessions, a, c)
        for a, c in ((provider, "10.61.0.0/16"), (consumer, "10.62.0.0/16"))
    }
    zone_ids = sorted(nets[provider]["subnets"])[:2]
    stack = deploy(
        local_sessions,
        provider,
        "role-provider",
        PROVIDER,
        {
            "VpcId": nets[provider]["vpc"],
            "SubnetIds": ",".join(nets[provider]["subnets"][z] for z in zone_ids),
            # The consumer's deploy role (what meshlink assumes there), not its root.
            "ConsumerPrincipal": f"arn:aws:iam::{consumer}:role/MeshlinkDeploy",
        },
    )
    service_id, name = outputs(stack)["ServiceId"], outputs(stack)["ServiceName"]
    ec2_c = local_sessions.client(consumer, "ec2")
    endpoint = ec2_c.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=nets[consumer]["vpc"],
        ServiceName=name,
        SubnetIds=[nets[consumer]["subnets"][zone_ids[0]]],
    )["VpcEndpoint"]
    assert endpoint["State"] == "pendingAcceptance"
    # Same account, through a role that is not among the allowed principals.
    other_role = SessionFactory(
        "local",
        "us-east-1",
        local_sessions.endpoint_url,
        accounts={"c": Account(id=consumer, vpc_cidr="10.62.0.0/16", role="Other")},
    )
    with pytest.raises(ClientError) as error:
        other_role.client(consumer, "ec2").create_vpc_endpoint(
            VpcEndpointType="Interface",
            VpcId=nets[consumer]["vpc"],
            ServiceName=name,
            SubnetIds=[nets[consumer]["subnets"][zone_ids[0]]],
        )
    assert error.value.response["Error"]["Code"] == "InvalidServiceName"

    ec2_p = local_sessions.client(provider, "ec2")
    rejected = ec2_p.reject_vpc_endpoint_connections(
        ServiceId=service_id, VpcEndpointIds=[endpoint["VpcEndpointId"], "vpce-0000000000000000"]
    )
    assert [u["ResourceId"] for u in rejected["Unsuccessful"]] == ["vpce-0000000000000000"]
    state = ec2_c.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    assert state["VpcEndpoints"][0]["State"] == "rejected"
    # A rejected connection no longer blocks deleting the service.
    ec2_p.modify_vpc_endpoint_service_configuration(ServiceId=service_id, AcceptanceRequired=False)
    again = ec2_c.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=nets[consumer]["vpc"],
        ServiceName=name,
        SubnetIds=[nets[consumer]["subnets"][zone_ids[1]]],
    )["VpcEndpoint"]
    assert again["State"] == "available"
    blocked = ec2_p.delete_vpc_endpoint_service_configurations(ServiceIds=[service_id])
    assert blocked["Unsuccessful"][0]["Error"]["Code"] == "ExistingVpcEndpointConnections"
    ec2_c.delete_vpc_endpoints(VpcEndpointIds=[again["VpcEndpointId"]])
    local_sessions.client(provider, "cloudformation").delete_stack(StackName="role-provider")
    assert ec2_p.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"] == []


def test_fixture_makes_ensure_running_find_it(local_cloud: Any) -> None:
    from meshlink.localcloud import daemon

    assert daemon.ensure_running() == local_cloud
    assert daemon.require_running().pid == local_cloud.pid
