"""Quotas the local cloud enforces as AWS does (localcloud/patches/limits.py)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.test_local_privatelink import deploy, network

pytestmark = [pytest.mark.localcloud]

ACCOUNT = "440000000004"
REGION = "us-east-1"


def padded(size: int) -> dict[str, Any]:
    """A valid template of at least `size` bytes (a long Description-free Metadata blob)."""
    return {
        "Metadata": {"Padding": "x" * size},
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "limits"}}
        },
    }


@pytest.fixture(scope="module")
def sessions(local_cloud: LocalCloudInfo) -> SessionFactory:
    return SessionFactory("local", REGION, local_cloud.endpoint_url)


@pytest.fixture(scope="module")
def bucket(sessions: SessionFactory) -> str:
    name = f"limits-{uuid.uuid4().hex[:8]}"
    sessions.client(ACCOUNT, "s3").create_bucket(Bucket=name)
    return name


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    error = raised.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_a_template_body_over_51200_bytes_is_refused_as_aws_refuses_it(
    sessions: SessionFactory,
) -> None:
    cfn = sessions.client(ACCOUNT, "cloudformation")
    body = json.dumps(padded(51_300))
    for call, extra in (
        (cfn.create_stack, {"StackName": "too-big"}),
        (
            cfn.create_change_set,
            {"StackName": "too-big", "ChangeSetName": "c1", "ChangeSetType": "CREATE"},
        ),
        (cfn.validate_template, {}),
    ):
        code, message = error_of(call, TemplateBody=body, **extra)
        assert code == "ValidationError"
        assert message.startswith("1 validation error detected: Value '{")
        assert message.endswith(
            "at 'templateBody' failed to satisfy constraint: "
            "Member must have length less than or equal to 51200"
        )
    # Exactly at the limit is fine.
    exact = json.dumps(padded(0))
    exact = json.dumps(padded(51_200 - len(exact.encode())))
    assert len(exact.encode()) == 51_200
    assert cfn.validate_template(TemplateBody=exact)


def test_a_template_url_in_the_local_s3_is_read_in_every_url_form(
    sessions: SessionFactory, bucket: str, local_cloud: LocalCloudInfo
) -> None:
    cfn = sessions.client(ACCOUNT, "cloudformation")
    s3 = sessions.client(ACCOUNT, "s3")
    body = json.dumps(padded(200_000))
    s3.put_object(Bucket=bucket, Key="big/template.json", Body=body.encode())
    urls = [
        f"https://{bucket}.s3.amazonaws.com/big/template.json",
        f"https://{bucket}.s3.{REGION}.amazonaws.com/big/template.json",
        f"https://s3.{REGION}.amazonaws.com/{bucket}/big/template.json",
        f"https://s3.amazonaws.com/{bucket}/big/template.json",
        f"{local_cloud.endpoint_url}/{bucket}/big/template.json",
    ]
    for url in urls:
        assert "Padding" not in cfn.validate_template(TemplateURL=url).get("Description", ""), url

    stack = deploy_url(sessions, "from-url", urls[1])
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    kept = cfn.get_template(StackName="from-url")["TemplateBody"]
    assert (kept if isinstance(kept, dict) else json.loads(kept))["Metadata"]["Padding"]


def deploy_url(sessions: SessionFactory, name: str, url: str) -> dict[str, Any]:
    cfn = sessions.client(ACCOUNT, "cloudformation")
    created = cfn.create_change_set(
        StackName=name, ChangeSetName="c1", ChangeSetType="CREATE", TemplateURL=url
    )
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=created["Id"], WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    cfn.execute_change_set(ChangeSetName=created["Id"])
    cfn.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    return dict(cfn.describe_stacks(StackName=name)["Stacks"][0])


def test_a_template_url_is_refused_over_1_mib_missing_or_not_s3(
    sessions: SessionFactory, bucket: str
) -> None:
    cfn = sessions.client(ACCOUNT, "cloudformation")
    s3 = sessions.client(ACCOUNT, "s3")
    s3.put_object(Bucket=bucket, Key="huge.json", Body=json.dumps(padded(1_048_600)).encode())
    huge = f"https://{bucket}.s3.amazonaws.com/huge.json"
    assert error_of(cfn.validate_template, TemplateURL=huge) == (
        "ValidationError",
        "Template may not exceed 1048576 bytes in size.",
    )
    missing = f"https://{bucket}.s3.amazonaws.com/nothing-here.json"
    assert error_of(cfn.create_stack, StackName="missing", TemplateURL=missing) == (
        "ValidationError",
        "TemplateURL must reference a valid S3 object to which you have access.",
    )
    # Another account's private bucket: not readable by this one.
    other = sessions.client("440000000005", "cloudformation")
    s3.put_object(Bucket=bucket, Key="small.json", Body=json.dumps(padded(10)).encode())
    small = f"https://{bucket}.s3.amazonaws.com/small.json"
    assert error_of(other.validate_template, TemplateURL=small)[1].startswith(
        "TemplateURL must reference a valid S3 object"
    )
    assert error_of(cfn.validate_template, TemplateURL="https://example.com/template.json") == (
        "ValidationError",
        "TemplateURL must be a supported URL.",
    )


def test_a_vpc_takes_50_interface_endpoints(sessions: SessionFactory) -> None:
    ec2 = sessions.client(ACCOUNT, "ec2")
    net = network(sessions, ACCOUNT, "10.44.0.0/16")
    subnet = next(iter(net["subnets"].values()))

    def endpoint() -> dict[str, Any]:
        return dict(
            ec2.create_vpc_endpoint(
                VpcId=net["vpc"],
                ServiceName=f"com.amazonaws.{REGION}.logs",
                VpcEndpointType="Interface",
                SubnetIds=[subnet],
                # AWS's default (true) needs the VPC's DNS attributes; not what is tested.
                PrivateDnsEnabled=False,
            )["VpcEndpoint"]
        )

    made = [endpoint() for _ in range(50)]
    code, message = error_of(endpoint)
    assert code == "VpcEndpointLimitExceeded"
    assert net["vpc"] in message
    # A gateway endpoint is not an interface endpoint: its own quota.
    ec2.create_vpc_endpoint(
        VpcId=net["vpc"], ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway"
    )
    # Deleting one makes room for one.
    ec2.delete_vpc_endpoints(VpcEndpointIds=[made[0]["VpcEndpointId"]])
    assert endpoint()["VpcEndpointId"]


def test_an_nlb_takes_50_listeners(sessions: SessionFactory) -> None:
    elb = sessions.client(ACCOUNT, "elbv2")
    net = network(sessions, ACCOUNT, "10.45.0.0/16")
    nlb = elb.create_load_balancer(
        Name="limits-nlb", Type="network", Scheme="internal", Subnets=[*net["subnets"].values()][:2]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    group = elb.create_target_group(
        Name="limits-tg", Protocol="TCP", Port=80, VpcId=net["vpc"], TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]

    def listener(port: int) -> Any:
        return elb.create_listener(
            LoadBalancerArn=nlb,
            Protocol="TCP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
        )

    for port in range(8000, 8050):
        listener(port)
    code, message = error_of(listener, port=9000)
    assert code == "TooManyListeners"
    assert "limit on the number of listeners per load balancer" in message


def test_a_replacement_subnet_with_the_same_cidr_conflicts_and_the_update_rolls_back(
    sessions: SessionFactory,
) -> None:
    ec2 = sessions.client(ACCOUNT, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.46.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]

    def template(zone: str) -> dict[str, Any]:
        return {
            "Resources": {
                "Subnet": {
                    "Type": "AWS::EC2::Subnet",
                    "Properties": {
                        "VpcId": vpc,
                        "CidrBlock": "10.46.1.0/24",
                        "AvailabilityZone": zone,
                    },
                }
            },
            "Outputs": {"SubnetId": {"Value": {"Ref": "Subnet"}}},
        }

    stack = deploy(sessions, ACCOUNT, "subnet-move", template(zones[0]), {})
    old = stack["Outputs"][0]["OutputValue"]
    cfn = sessions.client(ACCOUNT, "cloudformation")
    created = cfn.create_change_set(
        StackName="subnet-move",
        ChangeSetName="move",
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(template(zones[1])),
    )
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=created["Id"], WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    (change,) = cfn.describe_change_set(ChangeSetName=created["Id"])["Changes"]
    assert change["ResourceChange"]["Replacement"] == "True"
    cfn.execute_change_set(ChangeSetName=created["Id"])
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_update_complete").wait(
            StackName="subnet-move", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
        )
    stack = cfn.describe_stacks(StackName="subnet-move")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = sessions.client(ACCOUNT, "cloudformation").describe_stack_events(
        StackName="subnet-move"
    )["StackEvents"]
    reasons = [e.get("ResourceStatusReason") or "" for e in events]
    assert any("InvalidSubnet.Conflict" in r for r in reasons), reasons
    (subnet,) = ec2.describe_subnets(SubnetIds=[old])["Subnets"]
    assert subnet["AvailabilityZone"] == zones[0]
