"""AWS service endpoints of the CDK network stack (network.aws_service_endpoints)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from meshlink.engines.cdk.synth import synth
from meshlink.topology.addressing import plan_subnets
from meshlink.topology.model import NetworkOptions, Topology

# mesh name -> network options
VARIANTS: dict[str, dict[str, Any]] = {
    "natless": {"nat_gateways": "none"},
    "withnat": {"nat_gateways": "single"},
    "chosen": {"nat_gateways": "single", "aws_service_endpoints": ["sts", "ecr.api"]},
    "skipped": {"nat_gateways": "none", "aws_service_endpoints": []},
}
CIDR = "10.7.0.0/16"


def topology(mesh: str, network: dict[str, Any]) -> Topology:
    return Topology.model_validate(
        {
            "name": mesh,
            "network": {"az_count": 2, "flow_logs": False, **network},
            "accounts": {mesh: {"id": "111111111111", "vpc_cidr": CIDR}},
            "services": {"svc": {"account": mesh, "port": 8080}},
        }
    )


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    from meshlink.stacks.network import build_network

    builders = [build_network(topology(mesh, network)) for mesh, network in VARIANTS.items()]

    def build(app: Any) -> None:
        for builder in builders:
            builder(app)

    result = synth(build, key="endpoint-variants", cache_dir=tmp_path_factory.mktemp("synth"))
    return {mesh: result.template(f"meshlink-{mesh}-network-{mesh}") for mesh in VARIANTS}


def of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def services(template: dict[str, Any]) -> list[str]:
    names = [
        r["Properties"]["ServiceName"].removeprefix("com.amazonaws.us-east-1.")
        for r in of_type(template, "AWS::EC2::VPCEndpoint").values()
    ]
    return sorted(names)


def test_a_vpc_without_nat_gets_what_fargate_needs(templates: dict[str, Any]) -> None:
    template = templates["natless"]
    assert services(template) == ["ecr.api", "ecr.dkr", "logs", "s3"]
    private = {
        k for k, r in of_type(template, "AWS::EC2::Subnet").items() if k.startswith("Private")
    }
    tables = {k for k in of_type(template, "AWS::EC2::RouteTable") if k.startswith("Private")}
    (group_id,) = of_type(template, "AWS::EC2::SecurityGroup")
    for resource in of_type(template, "AWS::EC2::VPCEndpoint").values():
        props = resource["Properties"]
        if props["ServiceName"].endswith(".s3"):
            assert props["VpcEndpointType"] == "Gateway"
            assert {t["Ref"] for t in props["RouteTableIds"]} == tables
            assert "SubnetIds" not in props and "PrivateDnsEnabled" not in props
        else:
            assert props["VpcEndpointType"] == "Interface"
            assert props["PrivateDnsEnabled"] is True
            assert {s["Ref"] for s in props["SubnetIds"]} == private
            assert props["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]


def test_the_endpoint_group_admits_https_from_the_private_subnets_only(
    templates: dict[str, Any],
) -> None:
    (group,) = of_type(templates["natless"], "AWS::EC2::SecurityGroup").values()
    ingress = group["Properties"]["SecurityGroupIngress"]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in ingress] == [
        ("tcp", 443, 443)
    ] * 2
    assert [r["CidrIp"] for r in ingress] == list(plan_subnets(CIDR, 2).private)
    (egress,) = group["Properties"]["SecurityGroupEgress"]
    assert egress["CidrIp"] == "255.255.255.255/32"  # nothing out


def test_with_nat_none_by_default_a_list_is_exactly_those(templates: dict[str, Any]) -> None:
    assert services(templates["withnat"]) == []
    assert of_type(templates["withnat"], "AWS::EC2::SecurityGroup") == {}
    assert services(templates["chosen"]) == ["ecr.api", "sts"]
    assert services(templates["skipped"]) == []


def test_the_option_resolves_and_validates() -> None:
    assert NetworkOptions(nat_gateways="none").service_endpoints() == (
        "ecr.api",
        "ecr.dkr",
        "logs",
        "s3",
    )
    assert NetworkOptions(aws_service_endpoints=["s3", "sts"]).service_endpoints() == ("s3", "sts")
    with pytest.raises(ValidationError, match="lists a service twice"):
        NetworkOptions(aws_service_endpoints=["s3", "s3"])
    with pytest.raises(ValidationError):
        NetworkOptions(aws_service_endpoints=["ec2"])  # type: ignore[list-item]
