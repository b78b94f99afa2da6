"""The data plane under the real stacks: the example mesh, deployed through CloudFormation,
carries traffic both ways (what `meshlink verify` checks), and nothing else gets in.

Reuses the deployment fixture of test_stacks_localcloud (synth + change sets, node by
node); the accept step, which is not a stack, is done here with the provider's API.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional import test_stacks_localcloud as stacks
from tests.functional.test_dataplane_support import admin, wait_for
from tests.functional.test_stacks_localcloud import Deployed

deployed = stacks.deployed  # the module-scoped fixture: the example mesh, deployed

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]


def _service(mesh: Deployed, name: str) -> dict[str, Any]:
    ecs = mesh.client(f"service:{name}", "ecs")
    for cluster in ecs.list_clusters()["clusterArns"]:
        arns = ecs.list_services(cluster=cluster)["serviceArns"]
        services = ecs.describe_services(cluster=cluster, services=arns)["services"] if arns else []
        for found in services:
            if found["status"] == "ACTIVE":
                return dict(found)
    raise AssertionError(f"no ECS service for {name}")


def _accept_everything(mesh: Deployed) -> None:
    for name in mesh.topology.services:
        ec2 = mesh.client(f"edge:{name}", "ec2")
        for connection in ec2.describe_vpc_endpoint_connections()["VpcEndpointConnections"]:
            if connection["VpcEndpointState"] == "pendingAcceptance":
                ec2.accept_vpc_endpoint_connections(
                    ServiceId=connection["ServiceId"], VpcEndpointIds=[connection["VpcEndpointId"]]
                )


def _endpoint_dns(mesh: Deployed, consumer: str, provider: str) -> str:
    provider_ec2 = mesh.client(f"edge:{provider}", "ec2")
    names = {
        c["ServiceName"]
        for c in provider_ec2.describe_vpc_endpoint_service_configurations()[
            "ServiceConfigurations"
        ]
    }
    endpoints = mesh.client(f"endpoints:{consumer}", "ec2").describe_vpc_endpoints()
    for found in endpoints["VpcEndpoints"]:
        if found["ServiceName"] in names and found["State"] == "available":
            return str(found["DnsEntries"][0]["DnsName"])
    raise AssertionError(f"no available endpoint from {consumer} to {provider}")


def _probe(mesh: Deployed, consumer: str, url: str, expect: str) -> dict[str, Any]:
    service = _service(mesh, consumer)
    ecs = mesh.client(f"service:{consumer}", "ecs")
    container = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"
    ]["containerDefinitions"][0]["name"]
    task = ecs.run_task(
        cluster=service["clusterArn"],
        taskDefinition=service["taskDefinition"],
        launchType="FARGATE",
        networkConfiguration=service["networkConfiguration"],
        overrides={
            "containerOverrides": [
                {
                    "name": container,
                    "command": ["probe", url, "--expect-service", expect, "--timeout", "3"],
                }
            ]
        },
    )["tasks"][0]

    def stopped() -> dict[str, Any] | None:
        found = ecs.describe_tasks(cluster=service["clusterArn"], tasks=[task["taskArn"]])
        first = found["tasks"][0]
        return dict(first) if first["lastStatus"] == "STOPPED" else None

    return dict(wait_for("the probe", stopped, timeout=60))


def test_every_service_runs_its_desired_tasks_behind_healthy_targets(deployed: Deployed) -> None:
    _accept_everything(deployed)
    for name, spec in deployed.topology.services.items():

        def healthy(name: str = name, want: int = spec.desired_count) -> bool:
            service = _service(deployed, name)
            elbv2 = deployed.client(f"edge:{name}", "elbv2")
            groups = [lb["targetGroupArn"] for lb in service["loadBalancers"]]
            states = [
                d["TargetHealth"]["State"]
                for g in groups
                for d in elbv2.describe_target_health(TargetGroupArn=g)["TargetHealthDescriptions"]
            ]
            return service["runningCount"] == want and states == ["healthy"] * want

        wait_for(f"{name}: {spec.desired_count} healthy tasks", healthy, timeout=60)


def test_each_edge_carries_traffic_and_the_wrong_name_fails(deployed: Deployed) -> None:
    _accept_everything(deployed)
    for consumer, spec in deployed.topology.services.items():
        for provider in spec.consumes:
            port = deployed.topology.services[provider].port
            dns = _endpoint_dns(deployed, consumer, provider)
            url = f"http://{dns}:{port}/health"
            ok = _probe(deployed, consumer, url, provider)
            assert ok["containers"][0].get("exitCode") == 0, (consumer, provider, ok)
            wrong = _probe(deployed, consumer, url, consumer)
            assert wrong["containers"][0].get("exitCode") not in (0, None)


def test_a_provider_cannot_reach_its_consumer_tasks_directly(deployed: Deployed) -> None:
    consumer, provider = "user-service", "notification-service"
    service = _service(deployed, consumer)
    ecs = deployed.client(f"service:{consumer}", "ecs")
    arns = ecs.list_tasks(cluster=service["clusterArn"], serviceName=service["serviceName"])
    task = ecs.describe_tasks(cluster=service["clusterArn"], tasks=arns["taskArns"])["tasks"][0]
    address = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    port = deployed.topology.services[consumer].port
    before = admin(deployed.sessions.endpoint_url or "", "/dataplane")["refused_total"]
    probe = _probe(deployed, provider, f"http://{address}:{port}/health", consumer)
    assert probe["containers"][0].get("exitCode") not in (0, None)
    after = admin(deployed.sessions.endpoint_url or "", "/dataplane")
    assert after["refused_total"] > before and "VPCs are isolated" in after["refusals"][-1]
