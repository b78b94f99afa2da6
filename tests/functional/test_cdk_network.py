"""The CDK network engine and the change-set deployer against the real local cloud."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from meshlink.deploy.zones import common_zone_ids
from meshlink.engines.cdk.deployer import Deployer, StackDeployError, stack_tags
from meshlink.engines.cdk.events import StackEvent
from meshlink.engines.cdk.network import CdkNetworkEngine
from meshlink.engines.cdk.waiting import Pacing
from meshlink.errors import DeployError
from meshlink.topology.addressing import plan_subnets
from meshlink.topology.model import Topology

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

REGION = "us-east-1"
ACCOUNTS = {"users": ("111111111111", "10.1.0.0/16"), "notify": ("222222222222", "10.2.0.0/16")}


@pytest.fixture(scope="module")
def cloud(local_cloud: Any) -> Any:
    """Clients acting in any account of the shared local cloud (meshlink.aws.sessions)."""
    from meshlink.aws.sessions import SessionFactory

    return SessionFactory("local", REGION, local_cloud.endpoint_url)


def topology(mesh: str, **network: Any) -> Topology:
    return Topology.model_validate(
        {
            "name": mesh,
            "region": REGION,
            "network": {"engine": "cdk", **network},
            "accounts": {k: {"id": i, "vpc_cidr": c} for k, (i, c) in ACCOUNTS.items()},
            "services": {"svc": {"account": "users", "port": 8080}},
        }
    )


FAST = Pacing(poll_min=0.01, poll_max=0.2, timeout=120)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    return tmp_path_factory.mktemp("synth")


def engine(
    cloud: Any,
    topo: Topology,
    cache_dir: Path,
    events: list[StackEvent],
    zone_ids: Sequence[str] | None = None,
) -> CdkNetworkEngine:
    """The engine as the orchestrator makes it: zone ids common to the accounts, or given."""

    def mesh_zone_ids() -> Sequence[str]:
        if zone_ids is not None:
            return zone_ids
        return common_zone_ids(
            [spec.id for spec in topo.accounts.values()],
            lambda account_id: cloud.client(account_id, "ec2"),
            topo.network.az_count,
        )

    return CdkNetworkEngine(
        topo,
        sessions=cloud,
        cache_dir=cache_dir,
        on_event=events.append,
        pacing=FAST,
        zone_ids=mesh_zone_ids,
    )


def zone_names(ec2: Any) -> dict[str, str]:
    """Zone id -> the AZ name this account gives it."""
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    return {z["ZoneId"]: z["ZoneName"] for z in zones}


def test_two_accounts_deploy_update_destroy(cloud: Any, cache_dir: Path) -> None:
    events: list[StackEvent] = []
    eng = engine(cloud, topology("fn", nat_gateways="single"), cache_dir, events)

    plan = eng.plan("users")
    assert plan.change_type == "CREATE"
    assert {c.logical_id for c in plan.changes} >= {"Vpc", "PublicSubnet1", "NatGateway1"}
    assert eng._deployer("users").status(eng.stack_name("users")) is None  # plan left nothing

    outputs = {account: eng.apply(account) for account in ACCOUNTS}
    mesh_zones = list(eng.mesh_zone_ids())
    assert len(mesh_zones) == 2
    for account, (account_id, cidr) in ACCOUNTS.items():
        out = outputs[account]
        ec2 = cloud.client(account_id, "ec2")
        vpc = ec2.describe_vpcs(VpcIds=[out["vpc_id"]])["Vpcs"][0]
        assert vpc["CidrBlock"] == cidr == out["vpc_cidr"]
        plan_ = plan_subnets(cidr, 2)
        names = zone_names(ec2)
        assert out["az_ids"] == mesh_zones
        assert out["azs"] == [names[zone_id] for zone_id in mesh_zones]
        for tier in ("public", "private", "isolated"):
            subnets = ec2.describe_subnets(SubnetIds=out[f"{tier}_subnet_ids"])["Subnets"]
            by_id = {s["SubnetId"]: s for s in subnets}
            ordered = [by_id[i] for i in out[f"{tier}_subnet_ids"]]
            assert [s["CidrBlock"] for s in ordered] == list(plan_.tier(tier))
            assert [s["AvailabilityZone"] for s in ordered] == out["azs"]
            assert [s["AvailabilityZoneId"] for s in ordered] == mesh_zones
            assert all(s["VpcId"] == vpc["VpcId"] for s in ordered)
        nats = [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["VpcId"] == vpc["VpcId"]]
        assert [n["SubnetId"] for n in nats] == out["public_subnet_ids"][:1]
        tables = ec2.describe_route_tables(RouteTableIds=out["private_route_table_ids"])[
            "RouteTables"
        ]
        for table in tables:
            targets = {
                r.get("NatGatewayId")
                for r in table["Routes"]
                if r.get("DestinationCidrBlock") == "0.0.0.0/0"
            }
            assert targets == {nats[0]["NatGatewayId"]}
        default_sg = ec2.describe_security_groups(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                {"Name": "group-name", "Values": ["default"]},
            ]
        )["SecurityGroups"][0]
        assert default_sg["IpPermissions"] == [] and default_sg["IpPermissionsEgress"] == []
        assert eng.outputs(account) == out
    assert any(e.status == "CREATE_COMPLETE" and e.is_stack for e in events)

    # Same template again: nothing to do, no change set left behind.
    deployer = eng._deployer("users")
    again = deployer.deploy(
        eng.stack_name("users"),
        eng.template("users"),
        parameters=eng.parameters(),
        tags=stack_tags("fn", "network:users"),
    )
    assert again.outcome == "unchanged"
    assert eng.apply("users") == outputs["users"]
    cfn = cloud.client(ACCOUNTS["users"][0], "cloudformation")
    summaries = cfn.list_change_sets(StackName=eng.stack_name("users"))["Summaries"]
    assert [c for c in summaries if c["ExecutionStatus"] != "EXECUTE_COMPLETE"] == []

    # Keeping flow logs longer is an update of the same stack, in place.
    longer = engine(
        cloud, topology("fn", nat_gateways="single", flow_log_retention_days=90), cache_dir, events
    )
    diff = longer.plan("users")
    assert diff.change_type == "UPDATE"
    assert ("Modify", "FlowLogGroup") in [(c.action, c.logical_id) for c in diff.changes]
    assert {c.action for c in diff.changes} == {"Modify"}  # in place: nothing added or removed
    updated = longer._deployer("users").deploy(
        longer.stack_name("users"),
        longer.template("users"),
        parameters=longer.parameters(),
        tags=stack_tags("fn", "network:users"),
    )
    assert updated.outcome == "updated"
    assert updated.changes == diff.changes
    logs = cloud.client(ACCOUNTS["users"][0], "logs")
    group = [
        g for g in logs.describe_log_groups()["logGroups"] if "FlowLogGroup" in g["logGroupName"]
    ]
    assert [g.get("retentionInDays") for g in group] == [90]
    assert longer.apply("users") == outputs["users"]

    # A NAT per AZ: two NATs added, the second private table re-routed to its own AZ's NAT.
    per_az = engine(
        cloud,
        topology("fn", nat_gateways="per_az", flow_log_retention_days=90),
        cache_dir,
        events,
    )
    diff = per_az.plan("users")
    assert {("Add", "NatGateway2"), ("Add", "NatEip2"), ("Modify", "Private2DefaultRoute")} <= {
        (c.action, c.logical_id) for c in diff.changes
    }
    assert per_az.apply("users") == outputs["users"]
    ec2 = cloud.client(ACCOUNTS["users"][0], "ec2")
    vpc_id = outputs["users"]["vpc_id"]
    nat_subnets = {
        n["NatGatewayId"]: n["SubnetId"]
        for n in ec2.describe_nat_gateways()["NatGateways"]
        if n["VpcId"] == vpc_id and n["State"] != "deleted"
    }
    assert sorted(nat_subnets.values()) == sorted(outputs["users"]["public_subnet_ids"])
    second = ec2.describe_route_tables(
        RouteTableIds=outputs["users"]["private_route_table_ids"][1:]
    )
    default = [
        r
        for r in second["RouteTables"][0]["Routes"]
        if r.get("DestinationCidrBlock") == "0.0.0.0/0"
    ]
    routed_to = [nat_subnets[r["NatGatewayId"]] for r in default]
    assert routed_to == outputs["users"]["public_subnet_ids"][1:]


def test_destroy_removes_the_networks(cloud: Any, cache_dir: Path) -> None:
    eng = engine(cloud, topology("gone", nat_gateways="single"), cache_dir, [])
    outputs = {account: eng.apply(account) for account in ACCOUNTS}
    for account, (account_id, _) in ACCOUNTS.items():
        assert eng.destroy(account).deleted
        assert not eng.destroy(account).deleted  # idempotent
        ec2 = cloud.client(account_id, "ec2")
        vpc_id = outputs[account]["vpc_id"]
        assert not [v for v in ec2.describe_vpcs()["Vpcs"] if v["VpcId"] == vpc_id]
        assert not ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        assert not [
            n
            for n in ec2.describe_nat_gateways()["NatGateways"]
            if n["VpcId"] == vpc_id and n["State"] != "deleted"
        ]
        with pytest.raises(DeployError):
            eng.outputs(account)


@pytest.mark.parametrize("nat", ["none", "per_az"])
def test_nat_choice(cloud: Any, cache_dir: Path, nat: str) -> None:
    eng = engine(
        cloud,
        topology(f"nat-{nat.replace('_', '-')}", nat_gateways=nat, flow_logs=False),
        cache_dir,
        [],
    )
    out = eng.apply("notify")
    ec2 = cloud.client(ACCOUNTS["notify"][0], "ec2")
    nats = {
        n["NatGatewayId"]: n["SubnetId"]
        for n in ec2.describe_nat_gateways()["NatGateways"]
        if n["VpcId"] == out["vpc_id"]
    }
    tables = ec2.describe_route_tables(RouteTableIds=out["private_route_table_ids"])["RouteTables"]
    by_id = {t["RouteTableId"]: t for t in tables}
    routes = [
        [
            r.get("NatGatewayId")
            for r in by_id[i]["Routes"]
            if r.get("DestinationCidrBlock") == "0.0.0.0/0"
        ]
        for i in out["private_route_table_ids"]
    ]
    if nat == "none":
        assert nats == {} and routes == [[], []]
    else:  # one NAT per AZ, each private table routed to the NAT of its own AZ
        assert sorted(nats.values()) == sorted(out["public_subnet_ids"])
        assert [nats[r[0]] for r in routes] == out["public_subnet_ids"]


def test_accounts_with_different_zone_names_get_the_same_zone_ids(
    cloud: Any, cache_dir: Path
) -> None:
    """Placed by id, the subnets share physical zones although the accounts name them apart."""
    names = {a: zone_names(cloud.client(i, "ec2")) for a, (i, _) in ACCOUNTS.items()}
    # The local cloud shuffles name -> id per account, as AWS does; else this proves nothing.
    assert names["users"] != names["notify"]
    # Not the first ids sorted, and in an order of their own: the engine takes them as given.
    chosen = ["use1-az5", "use1-az3"]
    expected_names = {account: [names[account][z] for z in chosen] for account in ACCOUNTS}
    assert expected_names["users"] != expected_names["notify"]

    eng = engine(
        cloud, topology("zoned", nat_gateways="none", flow_logs=False), cache_dir, [], chosen
    )
    for account, (account_id, _) in ACCOUNTS.items():
        out = eng.apply(account)
        assert out["az_ids"] == chosen
        assert out["azs"] == expected_names[account]  # this account's own names
        assert eng.outputs(account) == out
        ec2 = cloud.client(account_id, "ec2")
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [out["vpc_id"]]}])
        placed = sorted(
            (s["AvailabilityZoneId"], s["AvailabilityZone"]) for s in subnets["Subnets"]
        )
        assert placed == sorted(3 * list(zip(chosen, expected_names[account], strict=True)))
        assert eng.destroy(account).deleted


SUBNET_BY_ZONE_ID: dict[str, Any] = {
    "Parameters": {"ZoneId": {"Type": "String"}},
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}},
        "Subnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": {"Ref": "Vpc"},
                "CidrBlock": "10.9.0.0/24",
                "AvailabilityZoneId": {"Ref": "ZoneId"},
            },
        },
    },
    "Outputs": {
        "Name": {"Value": {"Fn::GetAtt": ["Subnet", "AvailabilityZone"]}},
        "Id": {"Value": {"Fn::GetAtt": ["Subnet", "AvailabilityZoneId"]}},
        "Vpc": {"Value": {"Ref": "Vpc"}},
    },
}


@pytest.mark.parametrize("account_id", ["111111111111", "333333333333"])
def test_local_cloud_places_a_cloudformation_subnet_by_zone_id(cloud: Any, account_id: str) -> None:
    """The local-cloud patch (patches/subnet_zone_id.py), through CloudFormation."""
    deployer = Deployer(cloud.client(account_id, "cloudformation"), pacing=FAST)
    names = zone_names(cloud.client(account_id, "ec2"))
    for zone_id in ("use1-az6", "use1-az1"):
        result = deployer.deploy(
            "subnet-by-zone-id", SUBNET_BY_ZONE_ID, parameters={"ZoneId": zone_id}
        )
        outputs = dict(result.outputs)
        vpc_id = outputs.pop("Vpc")
        assert outputs == {"Name": names[zone_id], "Id": zone_id}
        subnets = cloud.client(account_id, "ec2").describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        )["Subnets"]
        assert [(s["AvailabilityZoneId"], s["AvailabilityZone"]) for s in subnets] == [
            (zone_id, names[zone_id])
        ]
        # A new zone replaces the subnet, new one first: with the same CIDR that conflicts,
        # as on AWS. Each zone gets a stack of its own.
        assert deployer.delete("subnet-by-zone-id").deleted

    with pytest.raises(StackDeployError) as failed:
        deployer.deploy("subnet-bad-zone-id", SUBNET_BY_ZONE_ID, parameters={"ZoneId": "use1-az99"})
    assert failed.value.logical_id == "Subnet"
    assert "(use1-az99) for parameter availabilityZoneId is invalid" in failed.value.reason
    deployer.delete("subnet-bad-zone-id")


def test_vpc_has_dns_support_and_hostnames(cloud: Any, cache_dir: Path) -> None:
    eng = engine(cloud, topology("dns", nat_gateways="none", flow_logs=False), cache_dir, [])
    vpc_id = eng.apply("users")["vpc_id"]
    ec2 = cloud.client(ACCOUNTS["users"][0], "ec2")
    for attribute, key in (
        ("enableDnsSupport", "EnableDnsSupport"),
        ("enableDnsHostnames", "EnableDnsHostnames"),
    ):
        described = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
        assert described[key]["Value"] is True
