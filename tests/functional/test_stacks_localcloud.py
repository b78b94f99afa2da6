"""The mesh's stacks deploy on the real local cloud, node by node, and come down again.

The executor (meshlink.graph) does this for `meshlink up`; here the stacks are driven
by hand so that a template problem shows up as a stack problem, not an executor one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.deploy.zones import common_zone_ids
from meshlink.engines.cdk.deployer import Deployer, stack_tags
from meshlink.engines.cdk.synth import synth
from meshlink.engines.cdk.waiting import Pacing
from meshlink.engines.network_contract import NETWORK_OUTPUTS, normalise
from meshlink.errors import DeployError
from meshlink.graph.parameters import (
    MESH_ZONE_IDS,
    SHARED_ZONE_SUBNETS,
    fill_parameters,
    shared_zone_subnets,
)
from meshlink.stacks.mesh import mesh_builder, stack_nodes
from meshlink.topology.loader import load_topology
from meshlink.topology.model import Topology
from meshlink.topology.naming import stack_name
from tests.helpers import EXAMPLES

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

FAST = Pacing(poll_min=0.02, poll_max=0.5, timeout=180)


class Deployed:
    """The two-accounts mesh deployed on the local cloud: outputs and clients by node."""

    def __init__(self, topology: Topology, sessions: SessionFactory) -> None:
        self.topology = topology
        self.sessions = sessions
        self.outputs: dict[str, dict[str, Any]] = {}

    def account_id(self, node: str) -> str:
        kind, subject = node.split(":", 1)
        if kind in ("network", "platform"):
            return self.topology.accounts[subject].id
        return self.topology.account_of(subject).id

    def client(self, node: str, service: str) -> Any:
        return self.sessions.client(self.account_id(node), service)

    def deployer(self, node: str) -> Deployer:
        return Deployer(self.client(node, "cloudformation"), pacing=FAST)

    def mesh_zones(self, source: Mapping[str, str], outputs_of: Any) -> str:
        accounts = {key: account.id for key, account in self.topology.accounts.items()}
        zones = common_zone_ids(
            accounts,
            lambda key: self.sessions.client(accounts[key], "ec2"),
            self.topology.network.az_count,
        )
        return ",".join(zones)

    def shared_zones(self, source: Mapping[str, str], outputs_of: Any) -> str:
        consumer, provider = source["consumer"], source["provider"]
        network = outputs_of(f"network:{self.topology.services[consumer].account}")
        zones = set(str(outputs_of(f"edge:{provider}")["ZoneIds"]).split(","))
        return ",".join(shared_zone_subnets(network, zones, label=f"{consumer}->{provider}"))


@pytest.fixture(scope="module")
def deployed(local_cloud: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    topology = load_topology(EXAMPLES / "two-accounts.yaml")
    cache: Path = tmp_path_factory.mktemp("synth")
    templates = synth(mesh_builder(topology), key="two", cache_dir=cache).templates
    mesh = Deployed(topology, SessionFactory.for_topology(topology, local_cloud.endpoint_url))
    nodes = stack_nodes(topology)
    try:
        for node in nodes:
            name = stack_name(topology.name, *node.split(":", 1))
            template = templates[name]
            parameters = fill_parameters(
                template,
                mesh.outputs.__getitem__,
                {SHARED_ZONE_SUBNETS: mesh.shared_zones, MESH_ZONE_IDS: mesh.mesh_zones},
            )
            result = mesh.deployer(node).deploy(
                name, template, parameters=parameters, tags=stack_tags(topology.name, node)
            )
            assert result.outcome == "created", (node, result)
            outputs: dict[str, Any] = dict(result.outputs)
            if node.startswith("network:"):
                camel = {n: "".join(w.capitalize() for w in n.split("_")) for n in NETWORK_OUTPUTS}
                outputs = dict(normalise({n: outputs[c] for n, c in camel.items()}))
            mesh.outputs[node] = outputs
        yield mesh
    finally:
        for node in reversed(nodes):
            try:
                mesh.deployer(node).delete(stack_name(topology.name, *node.split(":", 1)))
            except DeployError:
                # Known local-cloud gap (see test_cdk_network.py): a network stack's VPC
                # cannot be deleted yet. The service stacks are checked in the last test.
                if not node.startswith("network:"):
                    raise


def test_endpoint_services_allow_exactly_the_consumer_account(deployed: Deployed) -> None:
    for provider, consumer_account in (("user-service", "222222222222"),
                                       ("notification-service", "111111111111")):  # fmt: skip
        node = f"edge:{provider}"
        ec2 = deployed.client(node, "ec2")
        service_id = deployed.outputs[node]["ServiceId"]
        allowed = ec2.describe_vpc_endpoint_service_permissions(ServiceId=service_id)
        principals = [p["Principal"] for p in allowed["AllowedPrincipals"]]
        assert principals == [f"arn:aws:iam::{consumer_account}:root"]
        name = deployed.outputs[node]["ServiceName"]
        assert name == f"com.amazonaws.vpce.us-east-1.{service_id}"


def test_endpoints_sit_only_in_zones_the_provider_serves(deployed: Deployed) -> None:
    node = "endpoints:user-service"
    endpoint_id = deployed.outputs[node]["EndpointNotificationServiceId"]
    ec2 = deployed.client(node, "ec2")
    (endpoint,) = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    assert endpoint["VpcEndpointType"] == "Interface"
    assert endpoint["PrivateDnsEnabled"] is False
    subnets = ec2.describe_subnets(SubnetIds=endpoint["SubnetIds"])["Subnets"]
    provider_zones = set(deployed.outputs["edge:notification-service"]["ZoneIds"].split(","))
    assert subnets and {s["AvailabilityZoneId"] for s in subnets} <= provider_zones
    dns = deployed.outputs[node]["EndpointNotificationServiceDns"]
    assert dns == endpoint["DnsEntries"][0]["DnsName"]


def test_task_definition_points_peers_at_the_endpoint_dns(deployed: Deployed) -> None:
    node = "service:user-service"
    ecs = deployed.client(node, "ecs")
    arn = deployed.outputs[node]["TaskDefinitionArn"]
    (container,) = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"][
        "containerDefinitions"
    ]
    env = {item["name"]: item["value"] for item in container["environment"]}
    dns = deployed.outputs["endpoints:user-service"]["EndpointNotificationServiceDns"]
    assert env["PEER_NOTIFICATION_SERVICE_URL"] == f"http://{dns}:8081"
    assert env["SERVICE_NAME"] == "user-service"


def test_ecs_service_is_registered_in_the_edge_target_group(deployed: Deployed) -> None:
    node = "service:notification-service"
    ecs = deployed.client(node, "ecs")
    cluster = deployed.outputs["platform:notify"]["ClusterName"]
    (service,) = ecs.describe_services(
        cluster=cluster, services=[deployed.outputs[node]["EcsServiceArn"]]
    )["services"]
    assert service["launchType"] == "FARGATE"
    target_group = deployed.outputs["edge:notification-service"]["TargetGroupArn"]
    assert [lb["targetGroupArn"] for lb in service["loadBalancers"]] == [target_group]
    breaker = service["deploymentConfiguration"]["deploymentCircuitBreaker"]
    assert breaker == {"enable": True, "rollback": True}


def test_service_stacks_come_down_and_leave_only_the_network(deployed: Deployed) -> None:
    # Runs last in this module: it tears down what the other tests read.
    topology = deployed.topology
    for node in reversed(stack_nodes(topology)):
        if node.startswith("network:"):
            continue
        result = deployed.deployer(node).delete(stack_name(topology.name, *node.split(":", 1)))
        assert result.deleted, node
    for account in topology.accounts:
        node = f"network:{account}"
        ec2, elbv2 = deployed.client(node, "ec2"), deployed.client(node, "elbv2")
        in_vpc = [{"Name": "vpc-id", "Values": [deployed.outputs[node]["vpc_id"]]}]
        groups = ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
        assert [g["GroupName"] for g in groups] == ["default"]
        endpoints = ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]
        assert all(e["State"].lower() == "deleted" for e in endpoints)
        assert elbv2.describe_load_balancers()["LoadBalancers"] == []
        assert ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"] == []
