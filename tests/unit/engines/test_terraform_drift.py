"""network_drift: the state file against a (fake) EC2; the real one is in the functional tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meshlink.engines.terraform.drift import network_drift

TAGS = {"meshlink:mesh": "shop", "Name": "shop-users"}


def resource(kind: str, name: str, attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "mode": "managed",
        "module": "module.network",
        "type": kind,
        "name": name,
        "instances": [{"attributes": attributes}],
    }


def write_state(path: Path) -> Path:
    resources = [
        resource("aws_vpc", "this", {"id": "vpc-1", "tags_all": TAGS}),
        resource("aws_subnet", "private", {"id": "subnet-1", "tags_all": TAGS}),
        resource("aws_route_table", "private", {"id": "rtb-1", "tags_all": {}}),
        resource(
            "aws_route",
            "private_nat",
            {
                "route_table_id": "rtb-1",
                "destination_cidr_block": "0.0.0.0/0",
                "nat_gateway_id": "nat-1",
            },
        ),
        resource(
            "aws_route_table_association", "p", {"subnet_id": "subnet-1", "route_table_id": "rtb-1"}
        ),
        resource("aws_nat_gateway", "this", {"id": "nat-1"}),
        resource("aws_iam_role", "flow_logs", {"id": "role"}),  # not read here
    ]
    path.write_text(json.dumps({"version": 4, "resources": resources}))
    return path


class FakeEc2:
    def __init__(self) -> None:
        self.vpcs = [{"VpcId": "vpc-1", "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()]}]
        self.subnets = [
            {
                "SubnetId": "subnet-1",
                "Tags": [
                    {"Key": "meshlink:mesh", "Value": "shop"},
                    {"Key": "Name", "Value": "shop-users"},
                ],
            }
        ]
        self.tables = [
            {
                "RouteTableId": "rtb-1",
                "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"}],
                "Associations": [{"SubnetId": "subnet-1"}],
            }
        ]
        self.nats = [{"NatGatewayId": "nat-1", "State": "available"}]

    def describe_vpcs(self, **_: Any) -> dict[str, Any]:
        return {"Vpcs": self.vpcs}

    def describe_subnets(self, **_: Any) -> dict[str, Any]:
        return {"Subnets": self.subnets}

    def describe_route_tables(self, **_: Any) -> dict[str, Any]:
        return {"RouteTables": self.tables}

    def describe_internet_gateways(self, **_: Any) -> dict[str, Any]:
        return {"InternetGateways": []}

    def describe_nat_gateways(self, **_: Any) -> dict[str, Any]:
        return {"NatGateways": self.nats}

    def describe_flow_logs(self, **_: Any) -> dict[str, Any]:
        return {"FlowLogs": []}


def test_a_network_as_its_state_says_has_no_drift(tmp_path: Path) -> None:
    assert network_drift(write_state(tmp_path / "s.json"), FakeEc2()) == []


def test_no_state_no_drift(tmp_path: Path) -> None:
    assert network_drift(tmp_path / "absent.json", FakeEc2()) == []


def test_each_difference_is_one_line(tmp_path: Path) -> None:
    ec2 = FakeEc2()
    ec2.subnets[0]["Tags"] = [{"Key": "meshlink:mesh", "Value": "other"}]
    ec2.tables[0]["Routes"] = []
    ec2.tables[0]["Associations"] = []
    ec2.nats[0]["State"] = "deleted"
    assert network_drift(write_state(tmp_path / "s.json"), ec2) == [
        "subnet subnet-1: tag Name removed",
        "subnet subnet-1: tag meshlink:mesh is 'other', want 'shop'",
        "route 0.0.0.0/0 in rtb-1 missing",
        "subnet subnet-1 no longer associated with rtb-1",
        "NAT gateway nat-1 deleted",
    ]


def test_a_deleted_vpc_is_said_once(tmp_path: Path) -> None:
    ec2 = FakeEc2()
    ec2.vpcs = []
    assert network_drift(write_state(tmp_path / "s.json"), ec2) == ["vpc vpc-1 deleted"]
