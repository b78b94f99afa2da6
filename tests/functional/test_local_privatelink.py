"""Issue 3's "done when": PrivateLink across accounts on the local cloud, via change sets.

Provider stack (NLB + endpoint service allowing account B) in account A, consumer stack
(interface endpoint) in B; A accepts, B sees it available; C is refused, a made-up
service name is refused, a subnet in a zone the service lacks is refused — each with
AWS's error code. The real AWS CLI lists the connections.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshlink.aws.sessions import SessionFactory

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

A, B, C = "210000000001", "220000000002", "230000000003"

PROVIDER = {
    "Parameters": {
        "VpcId": {"Type": "AWS::EC2::VPC::Id"},
        "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>"},
        "ConsumerPrincipal": {"Type": "String"},
        "Port": {"Type": "Number", "Default": 8080},
    },
    "Resources": {
        "NlbSg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "nlb", "VpcId": {"Ref": "VpcId"}},
        },
        "Nlb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Type": "network",
                "Scheme": "internal",
                "Subnets": {"Ref": "SubnetIds"},
                "SecurityGroups": [{"Ref": "NlbSg"}],
                "LoadBalancerAttributes": [
                    {"Key": "load_balancing.cross_zone.enabled", "Value": "true"}
                ],
            },
        },
        "Tg": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "Port": {"Ref": "Port"},
                "Protocol": "TCP",
                "TargetType": "ip",
                "VpcId": {"Ref": "VpcId"},
            },
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": {"Ref": "Nlb"},
                "Port": {"Ref": "Port"},
                "Protocol": "TCP",
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Tg"}}],
            },
        },
        "Service": {
            "Type": "AWS::EC2::VPCEndpointService",
            "Properties": {"NetworkLoadBalancerArns": [{"Ref": "Nlb"}], "AcceptanceRequired": True},
        },
        "Permissions": {
            "Type": "AWS::EC2::VPCEndpointServicePermissions",
            "Properties": {
                "ServiceId": {"Ref": "Service"},
                "AllowedPrincipals": [{"Ref": "ConsumerPrincipal"}],
            },
        },
    },
    "Outputs": {
        "ServiceId": {"Value": {"Ref": "Service"}},
        "ServiceName": {"Value": {"Fn::Sub": "com.amazonaws.vpce.${AWS::Region}.${Service}"}},
        "NlbArn": {"Value": {"Ref": "Nlb"}},
    },
}

CONSUMER = {
    "Parameters": {
        "VpcId": {"Type": "AWS::EC2::VPC::Id"},
        "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>"},
        "ServiceName": {"Type": "String"},
    },
    "Resources": {
        "EndpointSg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "endpoint", "VpcId": {"Ref": "VpcId"}},
        },
        "Endpoint": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {
                "VpcEndpointType": "Interface",
                "ServiceName": {"Ref": "ServiceName"},
                "VpcId": {"Ref": "VpcId"},
                "SubnetIds": {"Ref": "SubnetIds"},
                "SecurityGroupIds": [{"Ref": "EndpointSg"}],
            },
        },
    },
    "Outputs": {
        "EndpointId": {"Value": {"Ref": "Endpoint"}},
        "DnsName": {
            "Value": {
                "Fn::Select": [
                    1,
                    {
                        "Fn::Split": [
                            ":",
                            {"Fn::Select": [0, {"Fn::GetAtt": ["Endpoint", "DnsEntries"]}]},
                        ]
                    },
                ]
            }
        },
    },
}


def network(sessions: SessionFactory, account: str, cidr: str) -> dict[str, Any]:
    """A VPC with one /24 subnet per AZ; returns vpc id and {zone id: subnet id}."""
    ec2 = sessions.client(account, "ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 2)[0]
    by_zone = {}
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    for index, zone in enumerate(zones):
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"{base}.{index}.0/24", AvailabilityZone=zone["ZoneName"]
        )["Subnet"]
        assert subnet["AvailabilityZoneId"] == zone["ZoneId"]
        by_zone[zone["ZoneId"]] = subnet["SubnetId"]
    return {"vpc": vpc, "subnets": by_zone}


def deploy(
    sessions: SessionFactory,
    account: str,
    name: str,
    template: dict[str, Any],
    parameters: dict[str, str],
) -> dict[str, Any]:
    """Create a stack through a change set; return the described stack."""
    cfn = sessions.client(account, "cloudformation")
    change_set = cfn.create_change_set(
        StackName=name,
        ChangeSetName=f"cs-{uuid.uuid4().hex[:8]}",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=change_set["Id"], WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    cfn.execute_change_set(ChangeSetName=change_set["Id"])
    for _ in range(100):
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return dict(stack)
        time.sleep(0.1)
    raise AssertionError(f"{name} still in progress")


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture(scope="module")
def world(local_cloud: Any) -> dict[str, Any]:
    sessions = SessionFactory("local", "us-east-1", local_cloud.endpoint_url)
    nets = {
        A: network(sessions, A, "10.1.0.0/16"),
        B: network(sessions, B, "10.2.0.0/16"),
        C: network(sessions, C, "10.3.0.0/16"),
    }
    provider_zone_ids = sorted(nets[A]["subnets"])[:2]
    started = time.perf_counter()
    provider = deploy(
        sessions,
        A,
        "provider",
        PROVIDER,
        {
            "VpcId": nets[A]["vpc"],
            "SubnetIds": ",".join(nets[A]["subnets"][z] for z in provider_zone_ids),
            "ConsumerPrincipal": f"arn:aws:iam::{B}:root",
        },
    )
    assert provider["StackStatus"] == "CREATE_COMPLETE", provider
    service_name = outputs(provider)["ServiceName"]
    consumer = deploy(
        sessions,
        B,
        "consumer",
        CONSUMER,
        {
            "VpcId": nets[B]["vpc"],
            "SubnetIds": ",".join(nets[B]["subnets"][z] for z in provider_zone_ids),
            "ServiceName": service_name,
        },
    )
    elapsed = time.perf_counter() - started
    return {
        "sessions": sessions,
        "nets": nets,
        "provider": provider,
        "consumer": consumer,
        "service_name": service_name,
        "zone_ids": provider_zone_ids,
        "elapsed": elapsed,
        "endpoint": local_cloud.endpoint_url,
    }


def test_provider_stack_outputs_and_nlb_is_network(world: dict[str, Any]) -> None:
    out = outputs(world["provider"])
    assert out["ServiceId"].startswith("vpce-svc-")
    assert out["ServiceName"] == f"com.amazonaws.vpce.us-east-1.{out['ServiceId']}"
    elbv2 = world["sessions"].client(A, "elbv2")
    nlb = elbv2.describe_load_balancers(LoadBalancerArns=[out["NlbArn"]])["LoadBalancers"][0]
    assert nlb["Type"] == "network"
    assert nlb["Scheme"] == "internal"
    assert len(nlb["SecurityGroups"]) == 1
    attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=out["NlbArn"])
    assert {"Key": "load_balancing.cross_zone.enabled", "Value": "true"} in attributes["Attributes"]
    ec2 = world["sessions"].client(A, "ec2")
    permissions = ec2.describe_vpc_endpoint_service_permissions(ServiceId=out["ServiceId"])
    assert [p["Principal"] for p in permissions["AllowedPrincipals"]] == [f"arn:aws:iam::{B}:root"]


def test_consumer_endpoint_waits_for_acceptance_then_is_available(world: dict[str, Any]) -> None:
    assert world["consumer"]["StackStatus"] == "CREATE_COMPLETE", world["consumer"]
    endpoint_id = outputs(world["consumer"])["EndpointId"]
    assert ".vpce.amazonaws.com" in outputs(world["consumer"])["DnsName"]
    consumer_ec2 = world["sessions"].client(B, "ec2")
    provider_ec2 = world["sessions"].client(A, "ec2")
    state = consumer_ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]
    assert state["State"] == "pendingAcceptance"
    service_id = outputs(world["provider"])["ServiceId"]
    connections = provider_ec2.describe_vpc_endpoint_connections(
        Filters=[{"Name": "service-id", "Values": [service_id]}]
    )["VpcEndpointConnections"]
    assert [
        (c["VpcEndpointId"], c["VpcEndpointOwner"], c["VpcEndpointState"]) for c in connections
    ] == [(endpoint_id, B, "pendingAcceptance")]
    accepted = provider_ec2.accept_vpc_endpoint_connections(
        ServiceId=service_id, VpcEndpointIds=[endpoint_id]
    )
    assert accepted["Unsuccessful"] == []
    state = consumer_ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]
    assert state["State"] == "available"


def test_awscli_lists_the_connections(world: dict[str, Any]) -> None:
    creds = world["sessions"].session(A).get_credentials().get_frozen_credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=creds.access_key,
        AWS_SECRET_ACCESS_KEY=creds.secret_key,
        AWS_SESSION_TOKEN=creds.token,
        AWS_DEFAULT_REGION="us-east-1",
    )
    aws = str(Path(sys.executable).with_name("aws"))
    result = subprocess.run(
        [
            aws,
            "--endpoint-url",
            world["endpoint"],
            "ec2",
            "describe-vpc-endpoint-connections",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    connections = json.loads(result.stdout)["VpcEndpointConnections"]
    endpoint_id = outputs(world["consumer"])["EndpointId"]
    assert [(c["VpcEndpointId"], c["VpcEndpointOwner"]) for c in connections] == [(endpoint_id, B)]


def test_service_visible_to_allowed_consumer_only(world: dict[str, Any]) -> None:
    name = world["service_name"]
    seen = world["sessions"].client(B, "ec2").describe_vpc_endpoint_services(ServiceNames=[name])
    detail = seen["ServiceDetails"][0]
    assert detail["AvailabilityZoneIds"] == sorted(world["zone_ids"]) or set(
        detail["AvailabilityZoneIds"]
    ) == set(world["zone_ids"])
    zones_b = world["sessions"].client(B, "ec2").describe_availability_zones()["AvailabilityZones"]
    names_b = sorted(z["ZoneName"] for z in zones_b if z["ZoneId"] in world["zone_ids"])
    assert detail["AvailabilityZones"] == names_b
    with pytest.raises(ClientError) as error:
        world["sessions"].client(C, "ec2").describe_vpc_endpoint_services(ServiceNames=[name])
    assert error.value.response["Error"]["Code"] == "InvalidServiceName"


def _create_endpoint(world: dict[str, Any], account: str, service: str, zone_id: str) -> None:
    net = world["nets"][account]
    world["sessions"].client(account, "ec2").create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=net["vpc"],
        ServiceName=service,
        SubnetIds=[net["subnets"][zone_id]],
    )


def test_account_not_allowed_is_refused(world: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as error:
        _create_endpoint(world, C, world["service_name"], world["zone_ids"][0])
    assert error.value.response["Error"]["Code"] == "InvalidServiceName"


def test_account_not_allowed_is_refused_through_cloudformation(world: dict[str, Any]) -> None:
    net = world["nets"][C]
    stack = deploy(
        world["sessions"],
        C,
        "intruder",
        CONSUMER,
        {
            "VpcId": net["vpc"],
            "SubnetIds": net["subnets"][world["zone_ids"][0]],
            "ServiceName": world["service_name"],
        },
    )
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = (
        world["sessions"]
        .client(C, "cloudformation")
        .describe_stack_events(StackName=stack["StackId"])["StackEvents"]
    )
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and failed[0]["LogicalResourceId"] == "Endpoint"
    assert "InvalidServiceName" in failed[0]["ResourceStatusReason"]


def test_private_dns_needs_a_private_dns_name(world: dict[str, Any]) -> None:
    net = world["nets"][B]
    template = json.loads(json.dumps(CONSUMER))
    template["Resources"]["Endpoint"]["Properties"]["PrivateDnsEnabled"] = True
    stack = deploy(
        world["sessions"],
        B,
        "private-dns",
        template,
        {
            "VpcId": net["vpc"],
            "SubnetIds": net["subnets"][world["zone_ids"][0]],
            "ServiceName": world["service_name"],
        },
    )
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "does not provide a private DNS name" in stack["StackStatusReason"]
    world["sessions"].client(B, "cloudformation").delete_stack(StackName="private-dns")


def test_made_up_service_name_is_refused(world: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as error:
        _create_endpoint(
            world,
            B,
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
            world["zone_ids"][0],
        )
    assert error.value.response["Error"]["Code"] == "InvalidServiceName"


def test_subnet_in_a_zone_the_service_lacks_is_refused(world: dict[str, Any]) -> None:
    other_zone = next(z for z in sorted(world["nets"][B]["subnets"]) if z not in world["zone_ids"])
    with pytest.raises(ClientError) as error:
        _create_endpoint(world, B, world["service_name"], other_zone)
    assert error.value.response["Error"]["Code"] == "InvalidParameter"
    assert "does not support the availability zone" in error.value.response["Error"]["Message"]
    # Adding such a subnet to an existing endpoint is refused the same way.
    endpoint_id = outputs(world["consumer"])["EndpointId"]
    with pytest.raises(ClientError) as error:
        world["sessions"].client(B, "ec2").modify_vpc_endpoint(
            VpcEndpointId=endpoint_id, AddSubnetIds=[world["nets"][B]["subnets"][other_zone]]
        )
    assert error.value.response["Error"]["Code"] == "InvalidParameter"


def test_teardown_order_is_enforced_like_aws(world: dict[str, Any]) -> None:
    sessions = world["sessions"]
    provider_cfn = sessions.client(A, "cloudformation")
    provider_cfn.delete_stack(StackName="provider")
    stack = provider_cfn.describe_stacks(StackName="provider")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    sessions.client(B, "cloudformation").delete_stack(StackName="consumer")
    endpoint_id = outputs(world["consumer"])["EndpointId"]
    connections = sessions.client(A, "ec2").describe_vpc_endpoint_connections()[
        "VpcEndpointConnections"
    ]
    assert [(c["VpcEndpointId"], c["VpcEndpointState"]) for c in connections] == [
        (endpoint_id, "deleted")
    ]
    provider_cfn.delete_stack(StackName="provider")
    with pytest.raises(ClientError):
        provider_cfn.describe_stacks(StackName="provider")
    assert (
        sessions.client(A, "ec2").describe_vpc_endpoint_service_configurations()[
            "ServiceConfigurations"
        ]
        == []
    )
