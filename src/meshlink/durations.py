"""How long things take on AWS: the one table, each figure with its public source.

The strict local cloud (``meshlink local start --timing aws``) holds each resource in its
in-between state for its duration here times the time scale; ``meshlink plan`` and
``bench/makespan.py`` estimate ``up`` from the same table. Where AWS publishes no typical
figure, ``figure`` says so and the number is the one observed in practice (issue 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

Action = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class AwsDuration:
    """One duration: what it is, how long on AWS, the public figure and where it is from."""

    key: str
    seconds: float
    figure: str
    source: str


_EC2_WAITERS = "https://docs.aws.amazon.com/cli/latest/reference/ec2/wait/"
_TF_AWS = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/"
_PRIVATELINK = "https://docs.aws.amazon.com/vpc/latest/privatelink/"
_CONSISTENCY = "https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html"
_NO_FIGURE = "AWS publishes no typical figure; "

_TABLE: tuple[AwsDuration, ...] = (
    AwsDuration(
        "vpc.create",
        3.0,
        _NO_FIGURE + "a few seconds (the vpc-available waiter polls every 15 s)",
        _EC2_WAITERS + "vpc-available.html",
    ),
    AwsDuration(
        "subnet.create",
        2.0,
        _NO_FIGURE + "a few seconds (subnet state pending -> available)",
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Subnet.html",
    ),
    AwsDuration(
        "security_group.create",
        2.0,
        _NO_FIGURE + "a few seconds; the group may not be visible at once (eventual consistency)",
        _CONSISTENCY,
    ),
    AwsDuration(
        "security_group_rule.create",
        1.0,
        _NO_FIGURE + "about a second per rule",
        _CONSISTENCY,
    ),
    AwsDuration(
        "route.create",
        1.0,
        _NO_FIGURE + "a second or two (Terraform's aws_route create timeout is 2 m)",
        _TF_AWS + "route#timeouts",
    ),
    AwsDuration(
        "route_table.create",
        2.0,
        _NO_FIGURE + "a few seconds (Terraform's aws_route_table create timeout is 5 m)",
        _TF_AWS + "route_table#timeouts",
    ),
    AwsDuration(
        "internet_gateway.create",
        3.0,
        _NO_FIGURE + "a few seconds to create and attach (Terraform's timeout is 20 m)",
        _TF_AWS + "internet_gateway#timeouts",
    ),
    AwsDuration(
        "nat_gateway.create",
        100.0,
        _NO_FIGURE + "commonly 1-2 minutes pending -> available (the nat-gateway-available "
        "waiter polls every 15 s, 40 times; Terraform's create timeout is 10 m)",
        _EC2_WAITERS + "nat-gateway-available.html",
    ),
    AwsDuration(
        "nat_gateway.delete",
        60.0,
        _NO_FIGURE + "about a minute in deleting (Terraform's delete timeout is 30 m)",
        _TF_AWS + "nat_gateway#timeouts",
    ),
    AwsDuration(
        "nlb.create",
        150.0,
        _NO_FIGURE + "commonly 2-3 minutes provisioning -> active (the load-balancer-available "
        "waiter polls every 15 s, 40 times; Terraform's aws_lb create timeout is 10 m)",
        "https://docs.aws.amazon.com/cli/latest/reference/elbv2/wait/load-balancer-available.html",
    ),
    AwsDuration(
        "nlb.delete",
        60.0,
        _NO_FIGURE + "about a minute (Terraform's aws_lb delete timeout is 10 m)",
        _TF_AWS + "lb#timeouts",
    ),
    AwsDuration(
        "target_group.create",
        2.0,
        _NO_FIGURE + "a few seconds",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/create-target-group.html",
    ),
    AwsDuration(
        "listener.create",
        2.0,
        _NO_FIGURE + "a few seconds",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/create-listener.html",
    ),
    AwsDuration(
        "nlb_target.healthy",
        90.0,
        "'It can take a few minutes for the registration process to complete and health "
        "checks to start'; then HealthyThresholdCount checks at the interval pass",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html",
    ),
    AwsDuration(
        "endpoint_service.create",
        3.0,
        _NO_FIGURE + "a few seconds (service state Pending -> Available)",
        _PRIVATELINK + "create-endpoint-service.html",
    ),
    AwsDuration(
        "interface_endpoint.create",
        120.0,
        _NO_FIGURE + "commonly about 2 minutes pending -> available (Terraform's "
        "aws_vpc_endpoint create timeout is 10 m)",
        _TF_AWS + "vpc_endpoint#timeouts",
    ),
    AwsDuration(
        "interface_endpoint.traffic_after_available",
        25.0,
        _NO_FIGURE + "connections are refused for 20-30 s after the endpoint turns "
        "available (issue 12); the endpoint's DNS name propagates after creation",
        _PRIVATELINK + "create-interface-endpoint.html",
    ),
    AwsDuration(
        "interface_endpoint.delete",
        60.0,
        _NO_FIGURE + "about a minute in deleting (Terraform's delete timeout is 10 m)",
        _TF_AWS + "vpc_endpoint#timeouts",
    ),
    AwsDuration(
        "interface_endpoint.connection_visible",
        10.0,
        _NO_FIGURE + "a new endpoint's connection reaches the provider's "
        "DescribeVpcEndpointConnections after a delay (eventual consistency)",
        _CONSISTENCY,
    ),
    AwsDuration(
        "gateway_endpoint.create",
        5.0,
        _NO_FIGURE + "a few seconds (routes are added to the route tables)",
        _PRIVATELINK + "gateway-endpoints.html",
    ),
    AwsDuration(
        "fargate_task.provisioning",
        10.0,
        _NO_FIGURE + "PROVISIONING lasts while the task's elastic network interface is created "
        "and attached (awsvpc), commonly the first 5-15 s of the time to RUNNING",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html",
    ),
    AwsDuration(
        "fargate_task.running",
        40.0,
        _NO_FIGURE + "commonly 30-60 s PROVISIONING -> PENDING -> RUNNING (ENI attach, image "
        "pull, container start)",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html",
    ),
    AwsDuration(
        "ecs_service.create",
        3.0,
        _NO_FIGURE + "the API call takes seconds; CloudFormation then waits for the service "
        "to be stable (its tasks RUNNING and, behind a load balancer, healthy)",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ecs-service.html",
    ),
    AwsDuration(
        "iam_role.create",
        3.0,
        _NO_FIGURE + "seconds to create; IAM changes take time to propagate (eventual consistency)",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html"
        "#troubleshoot_general_eventual-consistency",
    ),
    AwsDuration(
        "log_group.create",
        1.0,
        _NO_FIGURE + "about a second",
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
    ),
    AwsDuration(
        "stack.create_overhead",
        5.0,
        _NO_FIGURE + "a few seconds to start a stack operation and finish it (issue 12)",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacks.html",
    ),
    AwsDuration(
        "describe.not_found_after_create",
        2.0,
        "'a resource that you just created might not be visible right away' to a describe: "
        "a NotFound error for a moment (no figure published; a couple of seconds)",
        _CONSISTENCY,
    ),
    AwsDuration(
        "default.create",
        2.0,
        _NO_FIGURE + "1-5 s for a resource without its own entry",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacks.html",
    ),
    AwsDuration(
        "default.update",
        2.0,
        _NO_FIGURE + "1-5 s for an in-place update",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacks.html",
    ),
    AwsDuration(
        "default.delete",
        2.0,
        _NO_FIGURE + "1-5 s for a resource without its own entry",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacks.html",
    ),
)

DURATIONS: Mapping[str, AwsDuration] = MappingProxyType({d.key: d for d in _TABLE})

# CloudFormation resource type -> the table's key prefix (``<prefix>.<action>``).
_CFN_PREFIX: Mapping[str, str] = MappingProxyType(
    {
        "AWS::EC2::VPC": "vpc",
        "AWS::EC2::Subnet": "subnet",
        "AWS::EC2::SecurityGroup": "security_group",
        "AWS::EC2::SecurityGroupIngress": "security_group_rule",
        "AWS::EC2::SecurityGroupEgress": "security_group_rule",
        "AWS::EC2::Route": "route",
        "AWS::EC2::RouteTable": "route_table",
        "AWS::EC2::InternetGateway": "internet_gateway",
        "AWS::EC2::NatGateway": "nat_gateway",
        "AWS::ElasticLoadBalancingV2::LoadBalancer": "nlb",
        "AWS::ElasticLoadBalancingV2::TargetGroup": "target_group",
        "AWS::ElasticLoadBalancingV2::Listener": "listener",
        "AWS::EC2::VPCEndpointService": "endpoint_service",
        "AWS::EC2::VPCEndpoint": "interface_endpoint",
        "AWS::ECS::Service": "ecs_service",
        "AWS::IAM::Role": "iam_role",
        "AWS::Logs::LogGroup": "log_group",
    }
)


def seconds(key: str, scale: float = 1.0) -> float:
    """``DURATIONS[key].seconds * scale``."""
    return DURATIONS[key].seconds * scale


def resource_duration(
    cfn_type: str, action: Action, properties: Mapping[str, Any] | None = None
) -> float:
    """How long CloudFormation takes over one resource of `cfn_type` on AWS (unscaled).

    `properties` (the resource's template properties), when given, refines two types the
    way CloudFormation behaves: a ``Gateway`` VPC endpoint is quick, and an ECS service
    completes only once stable (its tasks RUNNING and, behind a load balancer, healthy).
    """
    props = properties or {}
    prefix = _CFN_PREFIX.get(cfn_type)
    if prefix == "interface_endpoint" and props.get("VpcEndpointType") == "Gateway":
        prefix = "gateway_endpoint"
    if prefix == "ecs_service" and action != "delete":
        stable = seconds("ecs_service.create") + seconds("fargate_task.running")
        return stable + (seconds("nlb_target.healthy") if props.get("LoadBalancers") else 0.0)
    entry = DURATIONS.get(f"{prefix}.{action}") if prefix else None
    return (entry or DURATIONS[f"default.{action}"]).seconds
