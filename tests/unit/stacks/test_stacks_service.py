"""service[service]: Fargate task definition and service behind the edge's NLB."""

from __future__ import annotations

import json
from typing import Any

from meshlink.stacks.outputs import ServiceOutputs
from meshlink.stacks.service import LOCAL_COMMAND_LABEL
from tests.unit.stacks.stacks_helpers import Mesh, parameter_sources, resources


def _container(mesh: Mesh, service: str) -> dict[str, Any]:
    template = mesh.templates[f"service:{service}"]
    (task,) = resources(template, "AWS::ECS::TaskDefinition").values()
    # The service's own container first (a traced service has the X-Ray daemon after it).
    return dict(task["Properties"]["ContainerDefinitions"][0])


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["Name"]: item["Value"] for item in container["Environment"]}


def test_task_definition_is_fargate_with_topology_sizes(two_way: Mesh) -> None:
    two_way.template("service:user-service").has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Family": "shop-user-service",
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "Cpu": "512",
            "Memory": "1024",
            # Its own roles: it reads secrets, and its X-Ray daemon uploads traces.
            "ExecutionRoleArn": {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
            "TaskRoleArn": {"Fn::GetAtt": ["TaskRole", "Arn"]},
        },
    )
    container = _container(two_way, "user-service")
    assert container["Image"] == "public.ecr.aws/acme/user-service:1.4.0"
    assert container["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]
    assert container["LogConfiguration"] == {
        "LogDriver": "awslogs",
        "Options": {
            "awslogs-group": {"Ref": "LogGroup"},  # the service's own log group
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "user-service",
        },
    }


def test_environment_names_the_service_and_its_peers(two_way: Mesh) -> None:
    env = _env(_container(two_way, "user-service"))
    assert env == {
        "LOG_LEVEL": "debug",
        # tracing: xray tells the bundled service where its X-Ray daemon listens.
        "MESHLINK_TRACING": "xray",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        # meshlink's own variables win over the topology's.
        "PORT": "8080",
        "SERVICE_NAME": "user-service",
        "PEER_NOTIFICATION_SERVICE_URL": {
            "Fn::Join": [
                "",
                ["http://", {"Ref": "EndpointsUserServiceEndpointNotificationServiceDns"}, ":8081"],
            ]
        },
    }


def test_full_mesh_gets_a_url_per_peer(full_mesh: Mesh) -> None:
    env = _env(_container(full_mesh, "shipping"))
    assert sorted(name for name in env if name.startswith("PEER_")) == [
        "PEER_INVENTORY_URL",
        "PEER_ORDERS_URL",
        "PEER_PAYMENTS_URL",
    ]


def test_external_peer_url_uses_its_port(external: Mesh) -> None:
    env = _env(_container(external, "checkout"))
    assert env["PEER_BILLING_URL"] == {
        "Fn::Join": ["", ["http://", {"Ref": "EndpointsCheckoutEndpointBillingDns"}, ":443"]]
    }


def test_local_command_label(two_way: Mesh) -> None:
    container = _container(two_way, "user-service")
    assert json.loads(container["DockerLabels"][LOCAL_COMMAND_LABEL]) == [
        "python",
        "-m",
        "meshlink_service",
        "--fast",
    ]
    assert "DockerLabels" not in _container(two_way, "notification-service")


def test_service_is_private_in_the_target_group_with_a_circuit_breaker(two_way: Mesh) -> None:
    two_way.template("service:user-service").has_resource_properties(
        "AWS::ECS::Service",
        {
            "Cluster": {"Ref": "PlatformUsersClusterName"},
            "LaunchType": "FARGATE",
            "DesiredCount": 3,
            "TaskDefinition": {"Ref": "TaskDefinition"},
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "AssignPublicIp": "DISABLED",
                    "Subnets": {"Ref": "NetworkUsersPrivateSubnetIds"},
                    "SecurityGroups": [{"Ref": "EdgeUserServiceTaskSecurityGroupId"}],
                }
            },
            "LoadBalancers": [
                {
                    "ContainerName": "user-service",
                    "ContainerPort": 8080,
                    "TargetGroupArn": {"Ref": "EdgeUserServiceTargetGroupArn"},
                }
            ],
            "DeploymentConfiguration": {
                "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                "MinimumHealthyPercent": 100,
                "MaximumPercent": 200,
            },
        },
    )


def test_a_service_that_consumes_nothing_reads_no_endpoints(one_way: Mesh) -> None:
    template = one_way.templates["service:api"]
    nodes = {source.get("node") for source in parameter_sources(template).values()}
    assert nodes == {"platform:back", "network:back", "edge:api"}
    assert not any(name.startswith("PEER_") for name in _env(_container(one_way, "api")))


def test_a_service_nobody_consumes_runs_without_a_load_balancer(one_way: Mesh) -> None:
    template = one_way.templates["service:web"]
    (service,) = resources(template, "AWS::ECS::Service").values()
    assert "LoadBalancers" not in service["Properties"]
    # Only valid behind a load balancer (ECS rejects it otherwise).
    assert "HealthCheckGracePeriodSeconds" not in service["Properties"]
    assert service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"][
        "SecurityGroups"
    ] == [{"Ref": "EdgeWebTaskSecurityGroupId"}]
    sources = parameter_sources(template).values()
    assert {"node": "edge:web", "output": "TargetGroupArn"} not in sources
    assert {"node": "edge:web", "output": "TaskSecurityGroupId"} in sources
    # Its own calls to what it consumes still go through its endpoints.
    assert _env(_container(one_way, "web"))["PEER_API_URL"]


def test_a_consumed_service_registers_in_its_target_group(one_way: Mesh) -> None:
    (service,) = resources(one_way.templates["service:api"], "AWS::ECS::Service").values()
    assert service["Properties"]["LoadBalancers"] == [
        {
            "ContainerName": "api",
            "ContainerPort": 8001,
            "TargetGroupArn": {"Ref": "EdgeApiTargetGroupArn"},
        }
    ]
    assert service["Properties"]["HealthCheckGracePeriodSeconds"] == 60


def test_outputs(two_way: Mesh) -> None:
    assert set(two_way.templates["service:user-service"]["Outputs"]) == {
        ServiceOutputs.ECS_SERVICE_ARN,
        ServiceOutputs.ECS_SERVICE_NAME,
        ServiceOutputs.TASK_DEFINITION_ARN,
    }
