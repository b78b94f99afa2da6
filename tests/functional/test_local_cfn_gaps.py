"""Local-cloud CloudFormation as AWS has it: VPC DNS attributes, list parameters, Fn::GetAZs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory

pytestmark = [pytest.mark.localcloud]

ACCOUNT = "430000000003"
OTHER_ACCOUNT = "440000000004"


def _params(parameters: dict[str, str | None]) -> list[dict[str, Any]]:
    return [
        {"ParameterKey": k, "UsePreviousValue": True}
        if v is None
        else {"ParameterKey": k, "ParameterValue": v}
        for k, v in parameters.items()
    ]


def through_change_set(
    sessions: SessionFactory,
    account: str,
    name: str,
    template: dict[str, Any],
    parameters: dict[str, str | None],
    kind: str = "CREATE",
) -> dict[str, Any]:
    """Create or update a stack through a change set; return the described stack."""
    cfn = sessions.client(account, "cloudformation")
    created = cfn.create_change_set(
        StackName=name,
        ChangeSetName=f"cs-{uuid.uuid4().hex[:8]}",
        ChangeSetType=kind,
        TemplateBody=json.dumps(template),
        Parameters=_params(parameters),
    )
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=created["Id"], WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    cfn.execute_change_set(ChangeSetName=created["Id"])
    return dict(cfn.describe_stacks(StackName=name)["Stacks"][0])


def directly(
    sessions: SessionFactory,
    account: str,
    name: str,
    template: dict[str, Any],
    parameters: dict[str, str | None],
    kind: str = "CREATE",
) -> dict[str, Any]:
    """CreateStack / UpdateStack; return the described stack."""
    cfn = sessions.client(account, "cloudformation")
    call = cfn.create_stack if kind == "CREATE" else cfn.update_stack
    call(StackName=name, TemplateBody=json.dumps(template), Parameters=_params(parameters))
    return dict(cfn.describe_stacks(StackName=name)["Stacks"][0])


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def parameters_of(stack: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def vpc_template(**dns: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "Vpc": {
                "Type": "AWS::EC2::VPC",
                "Properties": {"CidrBlock": "10.43.0.0/16", **dns},
            },
            # A dependent: replacing the VPC on update would fail (DependencyViolation).
            "Subnet": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.43.1.0/24"},
            },
        },
        "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}},
    }


def dns_attributes(sessions: SessionFactory, account: str, vpc_id: str) -> tuple[bool, bool]:
    ec2 = sessions.client(account, "ec2")
    support = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    return support["EnableDnsSupport"]["Value"], hostnames["EnableDnsHostnames"]["Value"]


def test_vpc_dns_attributes_on_create_and_in_place_update(local_sessions: SessionFactory) -> None:
    name = "vpc-dns"
    created = directly(
        local_sessions,
        ACCOUNT,
        name,
        vpc_template(EnableDnsSupport=True, EnableDnsHostnames=True),
        {},
    )
    assert created["StackStatus"] == "CREATE_COMPLETE"
    vpc_id = outputs(created)["VpcId"]
    assert dns_attributes(local_sessions, ACCOUNT, vpc_id) == (True, True)

    # CloudFormation also takes the strings "true"/"false".
    updated = through_change_set(
        local_sessions,
        ACCOUNT,
        name,
        vpc_template(EnableDnsSupport="false", EnableDnsHostnames="false"),
        {},
        kind="UPDATE",
    )
    assert updated["StackStatus"] == "UPDATE_COMPLETE", updated.get("StackStatusReason")
    assert outputs(updated)["VpcId"] == vpc_id  # updated in place, not replaced
    assert dns_attributes(local_sessions, ACCOUNT, vpc_id) == (False, False)

    # Removing the properties restores AWS's defaults.
    template = vpc_template()
    template["Resources"]["Vpc"]["Properties"]["Tags"] = [{"Key": "team", "Value": "net"}]
    defaults = directly(local_sessions, ACCOUNT, name, template, {}, kind="UPDATE")
    assert defaults["StackStatus"] == "UPDATE_COMPLETE", defaults.get("StackStatusReason")
    assert outputs(defaults)["VpcId"] == vpc_id
    assert dns_attributes(local_sessions, ACCOUNT, vpc_id) == (True, False)
    vpc = local_sessions.client(ACCOUNT, "ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert {t["Key"]: t["Value"] for t in vpc["Tags"]}["team"] == "net"
    local_sessions.client(ACCOUNT, "cloudformation").delete_stack(StackName=name)


LIST_TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "ZoneIds": {"Type": "CommaDelimitedList"},
        "Defaulted": {"Type": "CommaDelimitedList", "Default": "a,b"},
        "Name": {"Type": "String"},
    },
    "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
    # Inside the template the parameter is still a list.
    "Outputs": {"Second": {"Value": {"Fn::Select": [1, {"Ref": "ZoneIds"}]}}},
}


@pytest.mark.parametrize("create", [directly, through_change_set], ids=["direct", "change-set"])
def test_comma_delimited_list_parameter_is_described_comma_joined(
    local_sessions: SessionFactory, create: Any
) -> None:
    name = f"list-param-{create.__name__.replace('_', '-')}"
    stack = create(
        local_sessions,
        ACCOUNT,
        name,
        LIST_TEMPLATE,
        {"ZoneIds": "use1-az5,use1-az3", "Name": "plain"},
    )
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert parameters_of(stack) == {
        "ZoneIds": "use1-az5,use1-az3",
        "Defaulted": "a,b",
        "Name": "plain",
    }
    assert outputs(stack)["Second"] == "use1-az3"

    updated = through_change_set(
        local_sessions,
        ACCOUNT,
        name,
        LIST_TEMPLATE,
        {"ZoneIds": None, "Name": "renamed"},
        kind="UPDATE",
    )
    assert parameters_of(updated)["ZoneIds"] == "use1-az5,use1-az3"
    assert parameters_of(updated)["Name"] == "renamed"
    local_sessions.client(ACCOUNT, "cloudformation").delete_stack(StackName=name)


GET_AZS_TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.44.0.0/16"}},
        "Subnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": {"Ref": "Vpc"},
                "CidrBlock": "10.44.1.0/24",
                "AvailabilityZone": {"Fn::Select": [1, {"Fn::GetAZs": ""}]},
            },
        },
    },
    "Outputs": {
        "Azs": {"Value": {"Fn::Join": [",", {"Fn::GetAZs": ""}]}},
        "ByRegionRef": {"Value": {"Fn::Join": [",", {"Fn::GetAZs": {"Ref": "AWS::Region"}}]}},
        "SubnetAz": {"Value": {"Fn::GetAtt": ["Subnet", "AvailabilityZone"]}},
    },
}


@pytest.mark.parametrize(
    ("region", "names"),
    [
        ("ap-northeast-1", ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]),
        ("eu-west-2", ["eu-west-2a", "eu-west-2b", "eu-west-2c"]),
        ("us-east-1", [f"us-east-1{letter}" for letter in "abcdef"]),
    ],
)
def test_get_azs_gives_the_stack_regions_zones(
    local_cloud: Any, region: str, names: list[str]
) -> None:
    sessions = SessionFactory("local", region, local_cloud.endpoint_url)
    for account in (ACCOUNT, OTHER_ACCOUNT):
        described = sessions.client(account, "ec2").describe_availability_zones(
            Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}]
        )["AvailabilityZones"]
        # The account's own listing, in its order (zones.py shuffles the ids behind them).
        assert [z["ZoneName"] for z in described] == names
        stack = through_change_set(sessions, account, "get-azs", GET_AZS_TEMPLATE, {})
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        assert outputs(stack) == {
            "Azs": ",".join(names),
            "ByRegionRef": ",".join(names),
            "SubnetAz": names[1],
        }
        sessions.client(account, "cloudformation").delete_stack(StackName="get-azs")


def test_a_deleted_nat_gateway_takes_its_network_interface(local_sessions: SessionFactory) -> None:
    """Through the API, as Terraform deletes it: the VPC keeps no orphaned interface."""
    ec2 = local_sessions.client(OTHER_ACCOUNT, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.44.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.44.0.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
    assert len(ec2.describe_network_interfaces(Filters=in_vpc)["NetworkInterfaces"]) == 1
    ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
    assert ec2.describe_network_interfaces(Filters=in_vpc)["NetworkInterfaces"] == []
