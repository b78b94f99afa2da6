"""service[service]: the Fargate task definition and service, behind the edge's NLB."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from meshlink.graph.planner import node_id
from meshlink.stacks import operations
from meshlink.stacks.base import MeshStack
from meshlink.stacks.common import acknowledge, network_list
from meshlink.stacks.outputs import EdgeOutputs, EndpointsOutputs, PlatformOutputs, ServiceOutputs
from meshlink.stacks.platform import execution_policy
from meshlink.topology.model import Topology
from meshlink.topology.naming import env_var_for_peer, logical_id

LOCAL_COMMAND_LABEL = "meshlink.local.command"
# Tasks get this long to pass the NLB health check before ECS counts failures.
HEALTH_CHECK_GRACE_SECONDS = 60


def task_family(mesh: str, service: str) -> str:
    """Task definition family of a service."""
    return f"{mesh}-{service}"


class ServiceStack(MeshStack):
    """A Fargate service in private subnets, registered in its edge's target group (if any)."""

    def __init__(self, scope: Construct, topology: Topology, service: str) -> None:
        spec = topology.services[service]
        account = spec.account
        super().__init__(
            scope,
            mesh=topology.name,
            kind="service",
            subject=service,
            account_id=topology.accounts[account].id,
            region=topology.region,
        )
        platform = node_id("platform", account)
        edge = node_id("edge", service)
        cluster = self.upstream(platform, PlatformOutputs.CLUSTER_NAME).value_as_string
        log_group = operations.add_log_group(self, topology, service)
        execution_role = (
            self._own_execution_role(topology, service)
            if spec.secrets
            else self.upstream(platform, PlatformOutputs.EXECUTION_ROLE_ARN).value_as_string
        )
        subnets = network_list(self, topology.network_account(account), "private_subnet_ids")
        task_sg = self.upstream(edge, EdgeOutputs.TASK_SECURITY_GROUP_ID).value_as_string
        # An unconsumed service has no NLB (stacks/edge.py): its tasks run unregistered.
        exposed = bool(topology.consumers_of(service))

        container = ecs.CfnTaskDefinition.ContainerDefinitionProperty(
            name=service,
            image=spec.image,
            essential=True,
            port_mappings=[
                ecs.CfnTaskDefinition.PortMappingProperty(container_port=spec.port, protocol="tcp")
            ],
            environment=self._environment(topology, service),
            secrets=operations.container_secrets(spec),
            docker_labels=self._labels(topology, service),
            log_configuration=ecs.CfnTaskDefinition.LogConfigurationProperty(
                log_driver="awslogs",
                options={
                    "awslogs-group": log_group,
                    "awslogs-region": self.region,
                    "awslogs-stream-prefix": service,
                },
            ),
        )
        task_definition = ecs.CfnTaskDefinition(
            self,
            "TaskDefinition",
            family=task_family(topology.name, service),
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(spec.cpu),
            memory=str(spec.memory),
            execution_role_arn=execution_role,
            task_role_arn=operations.add_task_role(self, topology, service),
            container_definitions=[
                container,
                *operations.xray_sidecar(spec, service, log_group, self.region),
            ],
        )
        acknowledge(
            task_definition,
            "AwsSolutions-ECS2",
            "The environment holds only non-secret configuration: the service's name, "
            "port and its peers' endpoint URLs (plus what the topology file sets).",
        )
        fargate = ecs.CfnService(
            self,
            "Service",
            # Named after the topology's service so operators (and `meshlink local logs
            # <service>`) find it by the name they wrote; the cluster is the mesh's own.
            service_name=service,
            cluster=cluster,
            launch_type="FARGATE",
            task_definition=task_definition.ref,
            desired_count=spec.desired_count,
            network_configuration=ecs.CfnService.NetworkConfigurationProperty(
                awsvpc_configuration=ecs.CfnService.AwsVpcConfigurationProperty(
                    subnets=subnets,
                    security_groups=[task_sg],
                    assign_public_ip="DISABLED",
                )
            ),
            load_balancers=self._load_balancers(service, spec.port) if exposed else None,
            # Only valid for a service behind a load balancer.
            health_check_grace_period_seconds=HEALTH_CHECK_GRACE_SECONDS if exposed else None,
            # A bad image rolls back and fails the deploy instead of hanging it (§3a);
            # 100/200 keeps full capacity while new tasks start.
            deployment_configuration=ecs.CfnService.DeploymentConfigurationProperty(
                deployment_circuit_breaker=ecs.CfnService.DeploymentCircuitBreakerProperty(
                    enable=True, rollback=True
                ),
                minimum_healthy_percent=100,
                maximum_percent=200,
            ),
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
        )
        load_balancer = (
            self.upstream(edge, EdgeOutputs.LOAD_BALANCER_ARN).value_as_string if exposed else None
        )
        operations.add_scaling(
            self,
            spec,
            cluster=cluster,
            service=service,
            fargate=fargate,
            load_balancer_arn=load_balancer,
        )
        operations.add_service_alarms(
            self,
            topology,
            service,
            cluster=cluster,
            target_group_arn=self._target_group_arn(service) if exposed else None,
            load_balancer_arn=load_balancer,
            endpoint_service_id=(
                self.upstream(edge, EdgeOutputs.SERVICE_ID).value_as_string if exposed else None
            ),
        )
        if topology.endpoints_account(service) != account:
            self._egress_to_endpoints(topology, service, task_sg)
        self.output(ServiceOutputs.ECS_SERVICE_ARN, fargate.ref)
        self.output(ServiceOutputs.ECS_SERVICE_NAME, fargate.attr_name)
        self.output(ServiceOutputs.TASK_DEFINITION_ARN, task_definition.ref)

    def _egress_to_endpoints(self, topology: Topology, service: str, task_sg: str) -> None:
        """The tasks' way out to each endpoint they use, when another account owns the
        endpoints (a shared VPC's owner): that account may not change this account's
        security group, so the rule the endpoints stack adds otherwise is added here."""
        endpoints = node_id("endpoints", service)
        for peer in topology.services[service].consumes:
            group = self.upstream(endpoints, EndpointsOutputs.security_group_id(peer))
            ec2.CfnSecurityGroupEgress(
                self,
                f"{logical_id(peer)}TasksOut",
                group_id=task_sg,
                ip_protocol="tcp",
                from_port=topology.port_of(peer),
                to_port=topology.port_of(peer),
                destination_security_group_id=group.value_as_string,
                description=f"{service} tasks to the {peer} endpoint",
            )

    def _target_group_arn(self, service: str) -> str:
        return self.upstream(node_id("edge", service), EdgeOutputs.TARGET_GROUP_ARN).value_as_string

    def _load_balancers(self, service: str, port: int) -> list[ecs.CfnService.LoadBalancerProperty]:
        return [
            ecs.CfnService.LoadBalancerProperty(
                container_name=service,
                container_port=port,
                target_group_arn=self._target_group_arn(service),
            )
        ]

    def _own_execution_role(self, topology: Topology, service: str) -> str:
        """A service with secrets gets an execution role of its own that may read exactly
        them (the account's shared role reads none)."""
        spec = topology.services[service]
        policy = execution_policy(
            [operations.service_log_group_arn(topology.name, service)], [spec.image]
        )
        statements = [*policy["Statement"], operations.secrets_statement(spec)]  # type: ignore[misc]
        role = operations.task_assumed_role(
            self,
            "ExecutionRole",
            f"meshlink {topology.name}: starts {service}'s tasks, reads its secrets",
            "task-execution",
            statements,
        )
        operations.acknowledge_log_streams(role, topology.name, [service])
        return str(role.attr_arn)

    def _environment(
        self, topology: Topology, service: str
    ) -> list[ecs.CfnTaskDefinition.KeyValuePairProperty]:
        spec = topology.services[service]
        # The topology's own variables first, so meshlink's names win on a clash.
        env: dict[str, str] = dict(spec.environment)
        env.update(operations.tracing_environment(spec))
        env["SERVICE_NAME"] = service
        env["PORT"] = str(spec.port)
        for peer in spec.consumes:
            dns = self.upstream(
                node_id("endpoints", service), EndpointsOutputs.endpoint_dns(peer)
            ).value_as_string
            url = cdk.Fn.join("", ["http://", dns, f":{topology.port_of(peer)}"])
            env[env_var_for_peer(peer)] = url
        return [
            ecs.CfnTaskDefinition.KeyValuePairProperty(name=name, value=value)
            for name, value in sorted(env.items())
        ]

    @staticmethod
    def _labels(topology: Topology, service: str) -> dict[str, str] | None:
        local = topology.services[service].local
        if local is None or local.command is None:
            return None
        return {LOCAL_COMMAND_LABEL: json.dumps(local.command)}
