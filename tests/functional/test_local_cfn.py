"""CloudFormation on the local cloud: the resource types and lifecycle meshlink's stacks use."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshlink.aws.sessions import SessionFactory
from tests.functional.test_local_privatelink import PROVIDER, deploy, network, outputs

pytestmark = [pytest.mark.localcloud]

ACCOUNT = "410000000001"
CONSUMER_ACCOUNT = "420000000002"


def update(
    sessions: SessionFactory,
    account: str,
    name: str,
    template: dict[str, Any],
    parameters: dict[str, str | None],
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Update through a change set; returns (changes, described stack)."""
    cfn = sessions.client(account, "cloudformation")
    params = [
        {"ParameterKey": k, "UsePreviousValue": True}
        if v is None
        else {"ParameterKey": k, "ParameterValue": v}
        for k, v in parameters.items()
    ]
    created = cfn.create_change_set(
        StackName=name,
        ChangeSetName=f"u-{uuid.uuid4().hex[:8]}",
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(template),
        Parameters=params,
    )
    described = cfn.describe_change_set(ChangeSetName=created["Id"])
    changes = sorted(
        (c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"])
        for c in described["Changes"]
    )
    cfn.execute_change_set(ChangeSetName=created["Id"])
    return changes, cfn.describe_stacks(StackName=name)["Stacks"][0]


@pytest.fixture(scope="module")
def sessions(local_cloud: Any) -> SessionFactory:
    return SessionFactory("local", "us-east-1", local_cloud.endpoint_url)


@pytest.fixture(scope="module")
def net(sessions: SessionFactory) -> dict[str, Any]:
    return network(sessions, ACCOUNT, "10.40.0.0/16")


def _provider_params(net: dict[str, Any], principal: str) -> dict[str, str]:
    subnets = [net["subnets"][z] for z in sorted(net["subnets"])[:2]]
    return {"VpcId": net["vpc"], "SubnetIds": ",".join(subnets), "ConsumerPrincipal": principal}


def test_endpoint_service_and_permissions_update_and_delete(
    sessions: SessionFactory, net: dict[str, Any]
) -> None:
    ec2 = sessions.client(ACCOUNT, "ec2")
    stack = deploy(
        sessions,
        ACCOUNT,
        "svc-lifecycle",
        PROVIDER,
        _provider_params(net, f"arn:aws:iam::{CONSUMER_ACCOUNT}:root"),
    )
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    service_id = outputs(stack)["ServiceId"]
    config = ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[service_id])[
        "ServiceConfigurations"
    ][0]
    assert config["AcceptanceRequired"] is True
    assert config["NetworkLoadBalancerArns"] == [outputs(stack)["NlbArn"]]
    assert len(config["AvailabilityZoneIds"]) == 2

    # Update: another principal (a role), acceptance no longer required.
    template = json.loads(json.dumps(PROVIDER))
    template["Resources"]["Service"]["Properties"]["AcceptanceRequired"] = False
    role = f"arn:aws:iam::{CONSUMER_ACCOUNT}:role/Deployer"
    changes, stack = update(
        sessions,
        ACCOUNT,
        "svc-lifecycle",
        template,
        {"VpcId": None, "SubnetIds": None, "ConsumerPrincipal": role},
    )
    assert ("Modify", "Permissions") in changes and ("Modify", "Service") in changes
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack
    assert outputs(stack)["ServiceId"] == service_id
    config = ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[service_id])[
        "ServiceConfigurations"
    ][0]
    assert config["AcceptanceRequired"] is False
    principals = ec2.describe_vpc_endpoint_service_permissions(ServiceId=service_id)
    assert [p["Principal"] for p in principals["AllowedPrincipals"]] == [role]

    # Remove the permissions resource: the service allows nobody.
    del template["Resources"]["Permissions"]
    changes, stack = update(
        sessions,
        ACCOUNT,
        "svc-lifecycle",
        template,
        {"VpcId": None, "SubnetIds": None, "ConsumerPrincipal": None},
    )
    assert changes == [("Remove", "Permissions")]
    principals = ec2.describe_vpc_endpoint_service_permissions(ServiceId=service_id)
    assert principals["AllowedPrincipals"] == []

    sessions.client(ACCOUNT, "cloudformation").delete_stack(StackName="svc-lifecycle")
    with pytest.raises(ClientError) as error:
        ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[service_id])
    assert error.value.response["Error"]["Code"] == "InvalidVpcEndpointServiceId.NotFound"
    assert sessions.client(ACCOUNT, "elbv2").describe_load_balancers()["LoadBalancers"] == []


def test_change_set_stacks_have_outputs_and_resource_events(
    sessions: SessionFactory, net: dict[str, Any]
) -> None:
    stack = deploy(
        sessions,
        ACCOUNT,
        "events",
        PROVIDER,
        _provider_params(net, f"arn:aws:iam::{CONSUMER_ACCOUNT}:root"),
    )
    assert set(outputs(stack)) == {"ServiceId", "ServiceName", "NlbArn"}
    events = sessions.client(ACCOUNT, "cloudformation").describe_stack_events(StackName="events")[
        "StackEvents"
    ]
    complete = {e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"}
    assert set(PROVIDER["Resources"]) | {"events"} <= complete
    nlb = sessions.client(ACCOUNT, "ec2").describe_security_groups(
        Filters=[{"Name": "tag:aws:cloudformation:logical-id", "Values": ["NlbSg"]}]
    )["SecurityGroups"]
    assert [t for t in nlb[0]["Tags"] if t["Key"] == "aws:cloudformation:stack-name"] == [
        {"Key": "aws:cloudformation:stack-name", "Value": "events"}
    ]
    sessions.client(ACCOUNT, "cloudformation").delete_stack(StackName="events")


SERVICE_TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "VpcId": {"Type": "String"},
        "Subnets": {"Type": "CommaDelimitedList"},
        "Image": {"Type": "String", "Default": "img:1"},
    },
    "Resources": {
        "Cluster": {
            "Type": "AWS::ECS::Cluster",
            "Properties": {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
        },
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
        "ExecRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        }
                    ],
                }
            },
        },
        "TaskSg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "task", "VpcId": {"Ref": "VpcId"}},
        },
        "NlbSg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "nlb", "VpcId": {"Ref": "VpcId"}},
        },
        "Ingress": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": {"Fn::GetAtt": ["TaskSg", "GroupId"]},
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "SourceSecurityGroupId": {"Fn::GetAtt": ["NlbSg", "GroupId"]},
            },
        },
        "Nlb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Type": "network",
                "Scheme": "internal",
                "Subnets": {"Ref": "Subnets"},
                "SecurityGroups": [{"Fn::GetAtt": ["NlbSg", "GroupId"]}],
            },
        },
        "Tg": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "Port": 8080,
                "Protocol": "TCP",
                "TargetType": "ip",
                "VpcId": {"Ref": "VpcId"},
            },
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": {"Ref": "Nlb"},
                "Port": 8080,
                "Protocol": "TCP",
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Tg"}}],
            },
        },
        "TaskDef": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "svc",
                "Cpu": "256",
                "Memory": "512",
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "ExecutionRoleArn": {"Fn::GetAtt": ["ExecRole", "Arn"]},
                "ContainerDefinitions": [
                    {
                        "Name": "app",
                        "Image": {"Ref": "Image"},
                        "PortMappings": [{"ContainerPort": 8080, "Protocol": "tcp"}],
                        "Environment": [{"Name": "SERVICE_NAME", "Value": "svc"}],
                        "DockerLabels": {"meshlink.local.command": "python -m meshlink_service"},
                        "LogConfiguration": {
                            "LogDriver": "awslogs",
                            "Options": {
                                "awslogs-group": {"Ref": "Logs"},
                                "awslogs-region": "us-east-1",
                                "awslogs-stream-prefix": "svc",
                            },
                        },
                    }
                ],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "DependsOn": ["Listener"],
            "Properties": {
                "Cluster": {"Ref": "Cluster"},
                "TaskDefinition": {"Ref": "TaskDef"},
                "DesiredCount": 2,
                "LaunchType": "FARGATE",
                "DeploymentConfiguration": {
                    "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}
                },
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {
                        "AssignPublicIp": "DISABLED",
                        "Subnets": {"Ref": "Subnets"},
                        "SecurityGroups": [{"Fn::GetAtt": ["TaskSg", "GroupId"]}],
                    }
                },
                "LoadBalancers": [
                    {"ContainerName": "app", "ContainerPort": 8080, "TargetGroupArn": {"Ref": "Tg"}}
                ],
            },
        },
    },
    "Outputs": {
        "ClusterName": {"Value": {"Ref": "Cluster"}},
        "ServiceName": {"Value": {"Fn::GetAtt": ["Service", "Name"]}},
        "TaskDefArn": {"Value": {"Ref": "TaskDef"}},
        "TgArn": {"Value": {"Ref": "Tg"}},
        "TaskSgId": {"Value": {"Fn::GetAtt": ["TaskSg", "GroupId"]}},
    },
}


def test_ecs_service_stack_create_update_delete(
    sessions: SessionFactory, net: dict[str, Any]
) -> None:
    subnets = ",".join(sorted(net["subnets"].values())[:2])
    stack = deploy(
        sessions, ACCOUNT, "ecs", SERVICE_TEMPLATE, {"VpcId": net["vpc"], "Subnets": subnets}
    )
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    out = outputs(stack)
    ecs = sessions.client(ACCOUNT, "ecs")
    service = ecs.describe_services(cluster=out["ClusterName"], services=[out["ServiceName"]])[
        "services"
    ][0]
    assert service["launchType"] == "FARGATE"
    assert service["loadBalancers"] == [
        {"targetGroupArn": out["TgArn"], "containerName": "app", "containerPort": 8080}
    ]
    assert service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == [
        out["TaskSgId"]
    ]
    task = ecs.describe_task_definition(taskDefinition=out["TaskDefArn"])["taskDefinition"]
    assert task["networkMode"] == "awsvpc" and task["cpu"] == "256"
    assert task["containerDefinitions"][0]["dockerLabels"] == {
        "meshlink.local.command": "python -m meshlink_service"
    }

    changes, stack = update(
        sessions,
        ACCOUNT,
        "ecs",
        SERVICE_TEMPLATE,
        {"VpcId": None, "Subnets": None, "Image": "img:2"},
    )
    assert changes == [("Modify", "Service"), ("Modify", "TaskDef")]
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack
    new_arn = outputs(stack)["TaskDefArn"]
    assert new_arn.endswith(":2")
    service = ecs.describe_services(cluster=out["ClusterName"], services=[out["ServiceName"]])[
        "services"
    ][0]
    assert service["taskDefinition"] == new_arn

    sessions.client(ACCOUNT, "cloudformation").delete_stack(StackName="ecs")
    assert sessions.client(ACCOUNT, "elbv2").describe_target_groups()["TargetGroups"] == []
    services = ecs.describe_services(cluster=out["ClusterName"], services=[out["ServiceName"]])
    assert all(s["status"] != "ACTIVE" for s in services["services"])


def test_failed_resource_rolls_the_stack_back(
    sessions: SessionFactory, net: dict[str, Any]
) -> None:
    template = {
        "Resources": {
            "Sg": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "x", "VpcId": net["vpc"]},
            },
            "Bad": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {
                    "VpcEndpointType": "Interface",
                    "VpcId": net["vpc"],
                    "ServiceName": "com.amazonaws.vpce.us-east-1.vpce-svc-00000000000000000",
                    "SubnetIds": [next(iter(net["subnets"].values()))],
                },
            },
        }
    }
    stack = deploy(sessions, ACCOUNT, "broken", template, {})
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "InvalidServiceName" in stack["StackStatusReason"]
    groups = sessions.client(ACCOUNT, "ec2").describe_security_groups(
        Filters=[{"Name": "tag:aws:cloudformation:stack-name", "Values": ["broken"]}]
    )
    assert groups["SecurityGroups"] == []  # rolled back


def test_create_change_set_name_rules(sessions: SessionFactory) -> None:
    cfn = sessions.client(ACCOUNT, "cloudformation")
    body = json.dumps({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}})
    first = cfn.create_change_set(
        StackName="named", ChangeSetName="one", ChangeSetType="CREATE", TemplateBody=body
    )
    # Still in review: a new CREATE change set replaces the first.
    second = cfn.create_change_set(
        StackName="named", ChangeSetName="two", ChangeSetType="CREATE", TemplateBody=body
    )
    stacks = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "named"]
    assert [s["StackStatus"] for s in stacks] == ["REVIEW_IN_PROGRESS"]
    assert first["StackId"] != second["StackId"]
    cfn.execute_change_set(ChangeSetName=second["Id"])
    with pytest.raises(ClientError) as error:
        cfn.create_change_set(
            StackName="named", ChangeSetName="three", ChangeSetType="CREATE", TemplateBody=body
        )
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "already exists and cannot be created again" in str(error.value)
    cfn.delete_stack(StackName="named")
