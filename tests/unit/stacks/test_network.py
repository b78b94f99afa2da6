"""The CDK network stack template: exact subnet plan, NAT variants, flow logs, outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshlink.engines.cdk.synth import synth
from meshlink.engines.network_contract import NETWORK_OUTPUTS
from meshlink.topology.addressing import plan_subnets
from meshlink.topology.model import Topology

# mesh name -> (az_count, nat_gateways, flow_logs, vpc_cidr)
VARIANTS: dict[str, tuple[int, str, bool, str]] = {
    "single": (2, "single", True, "10.1.0.0/16"),
    "none": (1, "none", False, "10.2.0.0/20"),
    "perz": (3, "per_az", True, "172.16.0.0/16"),
    "six": (6, "per_az", False, "10.3.0.0/22"),
}


def topology(mesh: str, az_count: int, nat: str, flow_logs: bool, cidr: str) -> Topology:
    return Topology.model_validate(
        {
            "name": mesh,
            "network": {
                "az_count": az_count,
                "nat_gateways": nat,
                "flow_logs": flow_logs,
                "flow_log_retention_days": 45,
            },
            # One app holds every variant: construct ids (network + account) must differ.
            "accounts": {mesh: {"id": "111111111111", "vpc_cidr": cidr}},
            "services": {"svc": {"account": mesh, "port": 8080}},
        }
    )


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    from meshlink.stacks.network import build_network

    builders = [build_network(topology(mesh, *spec)) for mesh, spec in VARIANTS.items()]

    def build(app: Any) -> None:
        for builder in builders:
            builder(app)

    result = synth(build, key="variants", cache_dir=tmp_path_factory.mktemp("synth"))
    return {mesh: result.template(f"meshlink-{mesh}-network-{mesh}") for mesh in VARIANTS}


def joined(value: Any) -> list[Any]:
    """The items of an Fn::Join output (CDK writes a one-item join as the item itself)."""
    return value["Fn::Join"][1] if "Fn::Join" in value else [value]


def of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def test_outputs_are_the_contract_in_camel_case(templates: dict[str, dict[str, Any]]) -> None:
    from meshlink.stacks.network import OUTPUT_NAMES

    expected = [
        "VpcId",
        "VpcCidr",
        "Azs",
        "AzIds",
        "PublicSubnetIds",
        "PrivateSubnetIds",
        "IsolatedSubnetIds",
        "PrivateRouteTableIds",
    ]
    assert list(OUTPUT_NAMES.values()) == expected
    assert list(OUTPUT_NAMES) == list(NETWORK_OUTPUTS)
    for template in templates.values():
        assert sorted(template["Outputs"]) == sorted(expected)


@pytest.mark.parametrize("mesh", list(VARIANTS))
def test_subnets_follow_the_shared_plan(templates: dict[str, dict[str, Any]], mesh: str) -> None:
    az_count, _, _, cidr = VARIANTS[mesh]
    template = templates[mesh]
    plan = plan_subnets(cidr, az_count)
    subnets = of_type(template, "AWS::EC2::Subnet")
    assert len(subnets) == 3 * az_count
    for tier in ("public", "private", "isolated"):
        for index, expected in enumerate(plan.tier(tier)):
            props = subnets[f"{tier.capitalize()}Subnet{index + 1}"]["Properties"]
            assert props["CidrBlock"] == expected
            # Placed by the mesh's zone id (the same zone in every account), never by name.
            assert props["AvailabilityZoneId"] == {"Fn::Select": [index, {"Ref": "ZoneIds"}]}
            assert "AvailabilityZone" not in props
    listed = joined(template["Outputs"]["PublicSubnetIds"]["Value"])
    assert listed == [{"Ref": f"PublicSubnet{i + 1}"} for i in range(az_count)]
    # Names as this account calls those zones; ids as every account does.
    for output, attribute in (("Azs", "AvailabilityZone"), ("AzIds", "AvailabilityZoneId")):
        assert joined(template["Outputs"][output]["Value"]) == [
            {"Fn::GetAtt": [f"PublicSubnet{i + 1}", attribute]} for i in range(az_count)
        ]
    assert template["Outputs"]["VpcCidr"]["Value"] == cidr
    vpc = template["Resources"]["Vpc"]["Properties"]
    assert (vpc["CidrBlock"], vpc["EnableDnsSupport"], vpc["EnableDnsHostnames"]) == (
        cidr,
        True,
        True,
    )


@pytest.mark.parametrize("mesh", list(VARIANTS))
def test_nat_gateways_and_routes(templates: dict[str, dict[str, Any]], mesh: str) -> None:
    az_count, nat, _, _ = VARIANTS[mesh]
    template = templates[mesh]
    nats = of_type(template, "AWS::EC2::NatGateway")
    assert len(nats) == {"none": 0, "single": 1, "per_az": az_count}[nat]
    assert len(of_type(template, "AWS::EC2::EIP")) == len(nats)
    for index, gateway in enumerate(sorted(nats)):
        assert nats[gateway]["Properties"]["SubnetId"] == {"Ref": f"PublicSubnet{index + 1}"}
    routes = of_type(template, "AWS::EC2::Route")
    igw_routes = [r for r in routes.values() if "GatewayId" in r["Properties"]]
    assert len(igw_routes) == 1 and igw_routes[0]["DependsOn"] == ["InternetGatewayAttachment"]
    nat_routes = {
        r["Properties"]["RouteTableId"]["Ref"]: r["Properties"]["NatGatewayId"]["Ref"]
        for r in routes.values()
        if "NatGatewayId" in r["Properties"]
    }
    if nat == "none":
        assert nat_routes == {}
    else:
        expected_nat = (
            (lambda i: f"NatGateway{i}") if nat == "per_az" else (lambda i: "NatGateway1")
        )
        assert nat_routes == {
            f"Private{i}RouteTable": expected_nat(i) for i in range(1, az_count + 1)
        }
    # Private tables are listed in AZ order, one per AZ.
    assert joined(template["Outputs"]["PrivateRouteTableIds"]["Value"]) == [
        {"Ref": f"Private{i}RouteTable"} for i in range(1, az_count + 1)
    ]


@pytest.mark.parametrize("mesh", list(VARIANTS))
def test_flow_logs(templates: dict[str, dict[str, Any]], mesh: str) -> None:
    flow_logs = VARIANTS[mesh][2]
    template = templates[mesh]
    found = of_type(template, "AWS::EC2::FlowLog")
    groups = of_type(template, "AWS::Logs::LogGroup")
    assert len(found) == len(groups) == len(of_type(template, "AWS::IAM::Role")) == int(flow_logs)
    if flow_logs:
        props = next(iter(found.values()))["Properties"]
        assert props["ResourceId"] == {"Ref": "Vpc"}
        assert props["LogDestinationType"] == "cloud-watch-logs"
        assert props["DeliverLogsPermissionArn"] == {"Fn::GetAtt": ["FlowLogRole", "Arn"]}
        # 45 days is not a period CloudWatch offers: the next longer one is used.
        assert next(iter(groups.values()))["Properties"]["RetentionInDays"] == 60


def test_stack_is_tagged_and_traced(templates: dict[str, dict[str, Any]]) -> None:
    template = templates["single"]
    assert template["Metadata"]["meshlink"] == {
        "node": "network:single",
        "parameters": {"ZoneIds": {"resolver": "mesh_zone_ids"}},
    }
    tags = {t["Key"]: t["Value"] for t in template["Resources"]["Vpc"]["Properties"]["Tags"]}
    assert tags["meshlink:mesh"] == "single" and tags["meshlink:node"] == "network:single"


@pytest.mark.parametrize("mesh", list(VARIANTS))
def test_the_only_parameter_is_the_mesh_zone_ids(
    templates: dict[str, dict[str, Any]], mesh: str
) -> None:
    from meshlink.graph.parameters import MESH_ZONE_IDS

    template = templates[mesh]
    assert list(template["Parameters"]) == ["ZoneIds"]
    parameter = template["Parameters"]["ZoneIds"]
    assert parameter["Type"] == "CommaDelimitedList"
    assert "Default" not in parameter  # no silent fallback to some account's zones
    assert "zone ids" in parameter["Description"]
    assert template["Metadata"]["meshlink"]["parameters"] == {
        "ZoneIds": {"resolver": MESH_ZONE_IDS}
    }
    # Nothing picks zones by name in the account any more.
    assert "Fn::GetAZs" not in json.dumps(template)


@pytest.mark.parametrize("mesh", list(VARIANTS))
def test_cfn_lint_finds_no_errors(templates: dict[str, dict[str, Any]], mesh: str) -> None:
    from cfnlint.api import lint

    matches = lint(json.dumps(templates[mesh]), regions=["us-east-1", "eu-west-1"])
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_contract_outputs_normalise_the_stack_outputs() -> None:
    from meshlink.stacks.network import contract_outputs, retention_days

    raw = {
        "VpcId": "vpc-1", "VpcCidr": "10.0.0.0/16", "Azs": "us-east-1a,us-east-1b",
        "AzIds": "use1-az4,use1-az6", "PublicSubnetIds": "subnet-1,subnet-2",
        "PrivateSubnetIds": "subnet-3,subnet-4", "IsolatedSubnetIds": "subnet-5,subnet-6",
        "PrivateRouteTableIds": "rtb-1,rtb-2", "Extra": "ignored",
    }  # fmt: skip
    outputs = contract_outputs(raw)
    assert list(outputs) == list(NETWORK_OUTPUTS)
    assert outputs["vpc_id"] == "vpc-1"
    assert outputs["az_ids"] == ["use1-az4", "use1-az6"]
    assert outputs["private_route_table_ids"] == ["rtb-1", "rtb-2"]
    with pytest.raises(KeyError, match="AzIds"):
        contract_outputs({k: v for k, v in raw.items() if k != "AzIds"})
    assert [retention_days(d) for d in (1, 2, 30, 31, 3653, 4000)] == [1, 3, 30, 60, 3653, 3653]
