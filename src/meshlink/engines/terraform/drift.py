"""What of an account's Terraform-managed network no longer is as its state says.

A no-op `up` must not start Terraform (the aws provider alone takes seconds to start),
yet a route or a tag deleted by hand must still be seen and repaired. So the state
file (state.py) says what Terraform made, and a handful of EC2 reads say what is
live; any difference makes the network node apply again, and Terraform repairs it.

Each resource type has one checker in CHECKERS. Types without one (log group, IAM role,
default security group, EIP) are not read here: `meshlink plan` still shows a changed
network whenever `terraform plan` would, through the node's fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshlink.engines.terraform.state import StateResource, managed_resources


@dataclass
class LiveNetwork:
    """What EC2 says about one VPC, read once (a few describe calls, filtered by VPC)."""

    vpc: dict[str, Any] | None
    subnets: dict[str, dict[str, Any]] = field(default_factory=dict)
    route_tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    gateways: dict[str, dict[str, Any]] = field(default_factory=dict)
    nat_gateways: dict[str, dict[str, Any]] = field(default_factory=dict)
    flow_logs: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_live(ec2: Any, vpc_id: str) -> LiveNetwork:
    """The VPC and what hangs off it, by filters (a missing id never fails the read)."""
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"]
    if not vpcs:
        return LiveNetwork(None)
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    nat = ec2.describe_nat_gateways(Filters=in_vpc).get("NatGateways", [])
    gateways = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    )["InternetGateways"]
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}]).get(
        "FlowLogs", []
    )
    return LiveNetwork(
        vpcs[0],
        {s["SubnetId"]: s for s in ec2.describe_subnets(Filters=in_vpc)["Subnets"]},
        {t["RouteTableId"]: t for t in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]},
        {g["InternetGatewayId"]: g for g in gateways},
        {n["NatGatewayId"]: n for n in nat if n.get("State") not in ("deleting", "deleted")},
        {f["FlowLogId"]: f for f in flow_logs},
    )


def _tag_drift(kind: str, ident: str, wanted: Any, live: Any) -> list[str]:
    """Tags Terraform set (tags_all) that are gone or changed on the live resource."""
    have = {t["Key"]: t.get("Value", "") for t in live or []}
    found = []
    for key, value in sorted((wanted or {}).items()):
        if key not in have:
            found.append(f"{kind} {ident}: tag {key} removed")
        elif have[key] != value:
            found.append(f"{kind} {ident}: tag {key} is {have[key]!r}, want {value!r}")
    return found


def _vpc(resource: StateResource, live: LiveNetwork) -> list[str]:
    assert live.vpc is not None  # drift() stops at a deleted VPC
    ident = resource.attributes.get("id", "")
    return _tag_drift("vpc", ident, resource.attributes.get("tags_all"), live.vpc.get("Tags"))


def _subnet(resource: StateResource, live: LiveNetwork) -> list[str]:
    ident = resource.attributes.get("id", "")
    subnet = live.subnets.get(ident)
    if subnet is None:
        return [f"subnet {ident} deleted"]
    return _tag_drift("subnet", ident, resource.attributes.get("tags_all"), subnet.get("Tags"))


def _route_table(resource: StateResource, live: LiveNetwork) -> list[str]:
    ident = resource.attributes.get("id", "")
    table = live.route_tables.get(ident)
    if table is None:
        return [f"route table {ident} deleted"]
    tags = resource.attributes.get("tags_all")
    return _tag_drift("route table", ident, tags, table.get("Tags"))


def _route(resource: StateResource, live: LiveNetwork) -> list[str]:
    attributes = resource.attributes
    table_id = attributes.get("route_table_id", "")
    destination = attributes.get("destination_cidr_block") or ""
    table = live.route_tables.get(table_id)
    if table is None:
        return []  # said once, by the route table's own check
    target = attributes.get("nat_gateway_id") or attributes.get("gateway_id") or ""
    for route in table.get("Routes", []):
        if route.get("DestinationCidrBlock") != destination:
            continue
        live_target = route.get("NatGatewayId") or route.get("GatewayId") or ""
        if target and live_target != target:
            return [f"route {destination} in {table_id} goes to {live_target}, want {target}"]
        return []
    return [f"route {destination} in {table_id} missing"]


def _association(resource: StateResource, live: LiveNetwork) -> list[str]:
    subnet = resource.attributes.get("subnet_id", "")
    table_id = resource.attributes.get("route_table_id", "")
    table = live.route_tables.get(table_id)
    if table is None:
        return []
    if any(a.get("SubnetId") == subnet for a in table.get("Associations", [])):
        return []
    return [f"subnet {subnet} no longer associated with {table_id}"]


def _internet_gateway(resource: StateResource, live: LiveNetwork) -> list[str]:
    ident = resource.attributes.get("id", "")
    if ident not in live.gateways:
        return [f"internet gateway {ident} deleted or detached"]
    return []


def _nat_gateway(resource: StateResource, live: LiveNetwork) -> list[str]:
    ident = resource.attributes.get("id", "")
    if ident not in live.nat_gateways:
        return [f"NAT gateway {ident} deleted"]
    return []


def _flow_log(resource: StateResource, live: LiveNetwork) -> list[str]:
    ident = resource.attributes.get("id", "")
    if ident not in live.flow_logs:
        return [f"flow log {ident} deleted"]
    return []


Checker = Callable[[StateResource, LiveNetwork], list[str]]
CHECKERS: dict[str, Checker] = {
    "aws_vpc": _vpc,
    "aws_subnet": _subnet,
    "aws_route_table": _route_table,
    "aws_route": _route,
    "aws_route_table_association": _association,
    "aws_internet_gateway": _internet_gateway,
    "aws_nat_gateway": _nat_gateway,
    "aws_flow_log": _flow_log,
}


def network_drift(state: Path | dict[str, Any] | None, ec2: Any) -> list[str]:
    """One line per difference between the state (a file or document) and the live VPC.

    A root never applied (no state) has nothing to drift from.
    """
    resources = list(managed_resources(state))
    vpc = next((r for r in resources if r.type == "aws_vpc"), None)
    if vpc is None:
        return []
    live = read_live(ec2, vpc.attributes.get("id", ""))
    if live.vpc is None:
        return [f"vpc {vpc.attributes.get('id', '')} deleted"]
    found: list[str] = []
    for resource in resources:
        checker = CHECKERS.get(resource.type)
        if checker is not None:
            found.extend(checker(resource, live))
    return found
