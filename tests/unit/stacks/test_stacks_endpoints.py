"""endpoints[service]: an interface endpoint per consumed service, locked to our tasks."""

from __future__ import annotations

from meshlink.stacks.outputs import EndpointsOutputs
from tests.unit.stacks.stacks_helpers import Mesh, parameter_sources, resources

TASK_SG = {"Ref": "EdgeUserServiceTaskSecurityGroupId"}


def test_one_interface_endpoint_per_consumed_service(two_way: Mesh, full_mesh: Mesh) -> None:
    two_way.template("endpoints:user-service").has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Interface",
            "PrivateDnsEnabled": False,
            "ServiceName": {"Ref": "EdgeNotificationServiceServiceName"},
            "SubnetIds": {"Ref": "EndpointSubnetsNotificationService"},
            "VpcId": {"Ref": "NetworkUsersVpcId"},
            "SecurityGroupIds": [{"Fn::GetAtt": ["NotificationServiceSecurityGroup", "GroupId"]}],
        },
    )
    for service in full_mesh.topology.services:
        template = full_mesh.templates[f"endpoints:{service}"]
        assert len(resources(template, "AWS::EC2::VPCEndpoint")) == 3


def test_endpoint_sg_admits_only_our_task_sg_on_the_peer_port(two_way: Mesh) -> None:
    template = two_way.templates["endpoints:user-service"]
    (ingress,) = resources(template, "AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"] == {
        "Description": "user-service tasks to notification-service",
        "GroupId": {"Fn::GetAtt": ["NotificationServiceSecurityGroup", "GroupId"]},
        "SourceSecurityGroupId": TASK_SG,
        "IpProtocol": "tcp",
        "FromPort": 8081,
        "ToPort": 8081,
    }
    (group,) = resources(template, "AWS::EC2::SecurityGroup").values()
    assert "SecurityGroupIngress" not in group["Properties"]
    assert [rule["CidrIp"] for rule in group["Properties"]["SecurityGroupEgress"]] == [
        "255.255.255.255/32"
    ]
    # The tasks' way out to the endpoint: its group, its port, nothing else.
    (egress,) = resources(template, "AWS::EC2::SecurityGroupEgress").values()
    assert egress["Properties"] == {
        "Description": "user-service tasks to the notification-service endpoint",
        "GroupId": TASK_SG,
        "DestinationSecurityGroupId": {
            "Fn::GetAtt": ["NotificationServiceSecurityGroup", "GroupId"]
        },
        "IpProtocol": "tcp",
        "FromPort": 8081,
        "ToPort": 8081,
    }


def test_no_rule_anywhere_opens_to_the_world(all_meshes: list[Mesh]) -> None:
    for mesh in all_meshes:
        for node, template in mesh.templates.items():
            if not node.startswith("endpoints:"):
                continue
            text = str(template)
            assert "0.0.0.0/0" not in text and "::/0" not in text


def test_subnets_come_from_the_shared_zone_resolver(two_way: Mesh) -> None:
    template = two_way.templates["endpoints:user-service"]
    assert parameter_sources(template) == {
        "NetworkUsersVpcId": {"node": "network:users", "output": "vpc_id"},
        "EdgeUserServiceTaskSecurityGroupId": {
            "node": "edge:user-service",
            "output": "TaskSecurityGroupId",
        },
        "EdgeNotificationServiceServiceName": {
            "node": "edge:notification-service",
            "output": "ServiceName",
        },
        "EndpointSubnetsNotificationService": {
            "resolver": "shared_zone_subnets",
            "consumer": "user-service",
            "provider": "notification-service",
        },
    }
    assert template["Parameters"]["EndpointSubnetsNotificationService"]["Type"] == (
        "CommaDelimitedList"
    )


def test_outputs_id_and_first_dns_entry(two_way: Mesh) -> None:
    outputs = two_way.templates["endpoints:user-service"]["Outputs"]
    assert EndpointsOutputs.endpoint_id("notification-service") == "EndpointNotificationServiceId"
    assert EndpointsOutputs.endpoint_dns("notification-service") == "EndpointNotificationServiceDns"
    assert outputs["EndpointNotificationServiceId"]["Value"] == {
        "Ref": "NotificationServiceEndpoint"
    }
    assert outputs["EndpointNotificationServiceDns"]["Value"] == {
        "Fn::Select": [
            1,
            {
                "Fn::Split": [
                    ":",
                    {
                        "Fn::Select": [
                            0,
                            {"Fn::GetAtt": ["NotificationServiceEndpoint", "DnsEntries"]},
                        ]
                    },
                ]
            },
        ]
    }
    assert "EndpointNotificationServiceSecurityGroupId" in outputs


def test_external_service_uses_its_name_from_the_topology(external: Mesh) -> None:
    template = external.templates["endpoints:checkout"]
    (endpoint,) = resources(template, "AWS::EC2::VPCEndpoint").values()
    assert endpoint["Properties"]["ServiceName"] == "com.amazonaws.vpce.eu-west-1.vpce-svc-0abc123"
    (ingress,) = resources(template, "AWS::EC2::SecurityGroupIngress").values()
    assert (ingress["Properties"]["FromPort"], ingress["Properties"]["ToPort"]) == (443, 443)
    sources = parameter_sources(template)
    assert not any(s.get("node", "").startswith("edge:billing") for s in sources.values())
    assert sources["EndpointSubnetsBilling"] == {
        "resolver": "shared_zone_subnets",
        "consumer": "checkout",
        "provider": "billing",
    }
    assert set(template["Outputs"]) >= {"EndpointBillingId", "EndpointBillingDns"}


def test_a_service_that_consumes_nothing_has_no_endpoints_stack(one_way: Mesh) -> None:
    assert "endpoints:web" in one_way.stacks
    assert "endpoints:api" not in one_way.stacks
