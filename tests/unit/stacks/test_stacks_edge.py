"""edge[service]: task SG, NLB with its own SG, target group, endpoint service."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from meshlink.stacks.outputs import EdgeOutputs
from tests.unit.stacks.stacks_helpers import Mesh, parameter_sources, resources

SG_ID = {"Fn::GetAtt": ["TaskSecurityGroup", "GroupId"]}
NLB_SG_ID = {"Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]}


def _permissions(mesh: Mesh, service: str) -> list[dict[str, Any]]:
    template = mesh.templates[f"edge:{service}"]
    return list(resources(template, "AWS::EC2::VPCEndpointServicePermissions").values())


def test_principals_are_exactly_the_consumers_account_roots(two_way: Mesh) -> None:
    (permissions,) = _permissions(two_way, "user-service")
    assert permissions["Properties"]["AllowedPrincipals"] == ["arn:aws:iam::222222222222:root"]
    (permissions,) = _permissions(two_way, "notification-service")
    assert permissions["Properties"]["AllowedPrincipals"] == ["arn:aws:iam::111111111111:root"]


def test_principals_are_deduplicated_and_never_a_wildcard(full_mesh: Mesh) -> None:
    # payments is consumed by orders and inventory (one account) and by shipping.
    (permissions,) = _permissions(full_mesh, "payments")
    assert permissions["Properties"]["AllowedPrincipals"] == [
        "arn:aws:iam::100000000001:root",
        "arn:aws:iam::100000000003:root",
    ]
    for service in full_mesh.topology.services:
        for resource in _permissions(full_mesh, service):
            principals = resource["Properties"]["AllowedPrincipals"]
            assert "*" not in str(principals)
            assert len(principals) == len(set(principals))


def test_a_service_nobody_consumes_exposes_nothing_but_its_task_group(one_way: Mesh) -> None:
    # web consumes api; nobody consumes web: no NLB, listener, target group or
    # endpoint service to pay for, only the group its tasks (and its endpoints) use, and
    # the group's HTTPS way out.
    template = one_way.templates["edge:web"]
    types = sorted(r["Type"] for r in template["Resources"].values())
    assert types == ["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupEgress"]
    task_sg = template["Resources"]["TaskSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in task_sg
    # Egress: the placeholder inline, HTTPS as its own rule (peers: the endpoints stack).
    assert task_sg["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"
    https = template["Resources"]["TasksHttpsOut"]["Properties"]
    assert (https["IpProtocol"], https["FromPort"], https["ToPort"], https["CidrIp"]) == (
        "tcp",
        443,
        443,
        "0.0.0.0/0",
    )
    # The same description as a consumed service's group: adding a consumer must not
    # replace the group (and with it the consumer side's rules and the ECS service).
    exposed = one_way.templates["edge:api"]["Resources"]["TaskSecurityGroup"]["Properties"]
    assert task_sg["GroupDescription"] == "web tasks: the service port from its NLB only"
    assert exposed["GroupDescription"] == "api tasks: the service port from its NLB only"
    assert set(template["Outputs"]) == {
        EdgeOutputs.PORT,
        EdgeOutputs.TASK_SECURITY_GROUP_ID,
        EdgeOutputs.ZONE_IDS,
    }
    assert parameter_sources(template) == {
        "NetworkFrontVpcId": {"node": "network:front", "output": "vpc_id"},
        "NetworkFrontAzIds": {"node": "network:front", "output": "az_ids"},
    }


def test_a_consumed_service_exposes_the_full_edge(one_way: Mesh) -> None:
    template = one_way.templates["edge:api"]
    types = {r["Type"] for r in template["Resources"].values()}
    assert {
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::EC2::VPCEndpointService",
    } <= types
    (permissions,) = _permissions(one_way, "api")
    assert permissions["Properties"]["AllowedPrincipals"] == ["arn:aws:iam::400000000001:root"]
    assert EdgeOutputs.TARGET_GROUP_ARN in template["Outputs"]


def test_acceptance_is_required_unless_the_topology_says_otherwise(two_way: Mesh) -> None:
    # notification-service says so; user-service has the default (true).
    two_way.template("edge:notification-service").has_resource_properties(
        "AWS::EC2::VPCEndpointService", {"AcceptanceRequired": True}
    )
    two_way.template("edge:user-service").has_resource_properties(
        "AWS::EC2::VPCEndpointService",
        {"AcceptanceRequired": True, "NetworkLoadBalancerArns": [{"Ref": "LoadBalancer"}]},
    )


def test_nlb_is_internal_network_with_its_own_sg_and_cross_zone(two_way: Mesh) -> None:
    template = two_way.template("edge:user-service")
    template.resource_count_is("AWS::ElasticLoadBalancingV2::LoadBalancer", 1)
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Name": Match.absent(),  # CloudFormation names it: it can be replaced
            "Type": "network",
            "Scheme": "internal",
            "Subnets": {"Ref": "NetworkUsersPrivateSubnetIds"},
            "SecurityGroups": [NLB_SG_ID],
            "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic": "off",
            "LoadBalancerAttributes": Match.array_with(
                [{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}]
            ),
        },
    )


def test_target_group_and_listener_on_the_service_port(two_way: Mesh) -> None:
    template = two_way.template("edge:notification-service")
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "Name": Match.absent(),  # CloudFormation names it: a port change can replace it
            "Port": 8081,
            "Protocol": "TCP",
            "TargetType": "ip",
            "HealthCheckEnabled": True,
            "HealthCheckProtocol": "HTTP",
            "HealthCheckPath": "/ready",
            "VpcId": {"Ref": "NetworkNotifyVpcId"},
        },
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 8081,
            "Protocol": "TCP",
            "LoadBalancerArn": {"Ref": "LoadBalancer"},
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}],
        },
    )


def test_tasks_admit_only_the_nlb_sg_on_the_port(two_way: Mesh) -> None:
    template = two_way.templates["edge:user-service"]
    ingress = list(resources(template, "AWS::EC2::SecurityGroupIngress").values())
    assert [rule["Properties"] for rule in ingress] == [
        {
            "Description": "user-service NLB to its tasks",
            "GroupId": SG_ID,
            "SourceSecurityGroupId": NLB_SG_ID,
            "IpProtocol": "tcp",
            "FromPort": 8080,
            "ToPort": 8080,
        }
    ]
    for group in resources(template, "AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group["Properties"]


def test_nlb_sg_sends_only_to_the_tasks_on_the_port(two_way: Mesh) -> None:
    template = two_way.templates["edge:user-service"]
    nlb_sg = template["Resources"]["LoadBalancerSecurityGroup"]["Properties"]
    # The placeholder rule that matches nothing, so CloudFormation adds no allow-all.
    assert nlb_sg["SecurityGroupEgress"] == [
        {
            "CidrIp": "255.255.255.255/32",
            "Description": "Disallow all traffic",
            "FromPort": 252,
            "IpProtocol": "icmp",
            "ToPort": 86,
        }
    ]
    egress = resources(template, "AWS::EC2::SecurityGroupEgress")["LoadBalancerToTasks"]
    assert egress["Properties"]["GroupId"] == NLB_SG_ID
    assert egress["Properties"]["DestinationSecurityGroupId"] == SG_ID
    assert (egress["Properties"]["FromPort"], egress["Properties"]["ToPort"]) == (8080, 8080)


def test_outputs_and_their_sources(two_way: Mesh) -> None:
    template = two_way.templates["edge:user-service"]
    outputs = template["Outputs"]
    assert set(outputs) == {
        EdgeOutputs.SERVICE_NAME,
        EdgeOutputs.SERVICE_ID,
        EdgeOutputs.PORT,
        EdgeOutputs.LOAD_BALANCER_ARN,
        EdgeOutputs.LOAD_BALANCER_DNS_NAME,
        EdgeOutputs.LOAD_BALANCER_SECURITY_GROUP_ID,
        EdgeOutputs.TARGET_GROUP_ARN,
        EdgeOutputs.TASK_SECURITY_GROUP_ID,
        EdgeOutputs.ZONE_IDS,
    }
    assert outputs["ServiceName"]["Value"] == {
        "Fn::Join": [
            ".",
            ["com.amazonaws.vpce", {"Ref": "AWS::Region"}, {"Ref": "EndpointService"}],
        ]
    }
    assert outputs["ZoneIds"]["Value"] == {"Ref": "NetworkUsersAzIds"}
    assert outputs["Port"]["Value"] == "8080"
    assert parameter_sources(template) == {
        "NetworkUsersVpcId": {"node": "network:users", "output": "vpc_id"},
        "NetworkUsersPrivateSubnetIds": {"node": "network:users", "output": "private_subnet_ids"},
        "NetworkUsersAzIds": {"node": "network:users", "output": "az_ids"},
    }
    assert template["Parameters"]["NetworkUsersPrivateSubnetIds"]["Type"] == "CommaDelimitedList"
