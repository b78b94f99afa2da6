"""A CDK-synthesized network stack (VPC, subnets, NAT, IGW, routes, flow logs) on the
local cloud: created through a change set with its outputs, then deleted without leftovers.

The template is a snapshot of meshlink's CDK network engine output (tests/unit/localcloud/
fixtures/cdk_network.template.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from meshlink.aws.sessions import SessionFactory
from tests.functional.test_local_privatelink import deploy, outputs

pytestmark = [pytest.mark.localcloud]

TEMPLATE = (
    Path(__file__).parents[1] / "unit" / "localcloud" / "fixtures" / "cdk_network.template.json"
)
ACCOUNT = "810000000001"


def test_cdk_network_stack_creates_and_deletes_cleanly(local_sessions: SessionFactory) -> None:
    template = json.loads(TEMPLATE.read_text())
    stack = deploy(local_sessions, ACCOUNT, "network", template, {})
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    out = outputs(stack)
    ec2 = local_sessions.client(ACCOUNT, "ec2")
    private = out["PrivateSubnetIds"].split(",")
    subnets = ec2.describe_subnets(SubnetIds=private)["Subnets"]
    by_id = {s["SubnetId"]: s for s in subnets}
    # The stack's zone-id output agrees with this account's own AZ mapping.
    assert [by_id[s]["AvailabilityZoneId"] for s in private] == out["AzIds"].split(",")
    assert [by_id[s]["AvailabilityZone"] for s in private] == out["Azs"].split(",")

    local_sessions.client(ACCOUNT, "cloudformation").delete_stack(StackName="network")
    with pytest.raises(ClientError):
        local_sessions.client(ACCOUNT, "cloudformation").describe_stacks(StackName="network")
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    assert ec2.describe_internet_gateways()["InternetGateways"] == []
    assert {n["State"] for n in ec2.describe_nat_gateways()["NatGateways"]} <= {"deleted"}
