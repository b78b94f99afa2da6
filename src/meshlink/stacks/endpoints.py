"""endpoints[service]: one interface endpoint per service it consumes, in its own VPC."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from meshlink.graph.planner import node_id
from meshlink.stacks.base import MeshStack
from meshlink.stacks.common import NO_EGRESS, network_value, tcp_ingress_from_group
from meshlink.stacks.outputs import EdgeOutputs, EndpointsOutputs
from meshlink.topology.model import Topology
from meshlink.topology.naming import logical_id

# Resolver of graph.parameters that yields the consumer's private subnets whose zone id
# the provider's endpoint service supports (docs/ARCHITECTURE.md: compare zone ids, not names).
SHARED_ZONE_SUBNETS = "shared_zone_subnets"


def subnets_parameter_name(peer: str) -> str:
    """Name of the resolved parameter that holds the subnets of the endpoint to `peer`."""
    return logical_id("EndpointSubnets", peer)


class EndpointsStack(MeshStack):
    """Interface endpoints of one consumer; each admits only the consumer's tasks."""

    def __init__(self, scope: Construct, topology: Topology, service: str) -> None:
        spec = topology.services[service]
        if not spec.consumes:
            raise ValueError(f"{service} consumes nothing: it has no endpoints stack")
        super().__init__(
            scope,
            mesh=topology.name,
            kind="endpoints",
            subject=service,
            # The VPC owner's account: AWS lets no participant of a shared VPC create an
            # interface endpoint ("This operation does not support shared VPCs").
            account_id=topology.accounts[topology.endpoints_account(service)].id,
            region=topology.region,
        )
        vpc_id = network_value(self, topology.endpoints_account(service), "vpc_id")
        task_sg_id = self.upstream(
            node_id("edge", service), EdgeOutputs.TASK_SECURITY_GROUP_ID
        ).value_as_string
        # The tasks' egress rule goes with the endpoint only when one account owns both
        # groups; otherwise the service stack adds it (stacks/service.py).
        tasks_out = topology.endpoints_account(service) == spec.account
        for peer in spec.consumes:
            self._endpoint(
                topology, service, peer, vpc_id=vpc_id, task_sg_id=task_sg_id, tasks_out=tasks_out
            )

    def _endpoint(
        self,
        topology: Topology,
        service: str,
        peer: str,
        *,
        vpc_id: str,
        task_sg_id: str,
        tasks_out: bool,
    ) -> None:
        name = logical_id(peer)
        port = topology.port_of(peer)
        if peer in topology.services:
            edge = node_id("edge", peer)
            service_name = self.upstream(edge, EdgeOutputs.SERVICE_NAME).value_as_string
        else:
            # Not ours: its name is known up front and no stack of the mesh provides it.
            service_name = topology.external[peer].service_name
        subnets = self.resolved(
            subnets_parameter_name(peer),
            SHARED_ZONE_SUBNETS,
            type="CommaDelimitedList",
            consumer=service,
            provider=peer,
        ).value_as_list

        group = ec2.CfnSecurityGroup(
            self,
            f"{name}SecurityGroup",
            vpc_id=vpc_id,
            group_description=f"endpoint {service} to {peer}: {service} tasks on {port} only",
            # An endpoint only answers connections; it never opens one.
            security_group_egress=[NO_EGRESS],
        )
        tcp_ingress_from_group(
            self,
            f"{name}FromTasks",
            group_id=group.attr_group_id,
            source_group_id=task_sg_id,
            port=port,
            description=f"{service} tasks to {peer}",
        )
        # The tasks' side of the same path: their group lets out only this (and HTTPS,
        # stacks/edge.py), so a task reaches a peer only through its endpoint.
        if tasks_out:
            ec2.CfnSecurityGroupEgress(
                self,
                f"{name}TasksOut",
                group_id=task_sg_id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                destination_security_group_id=group.attr_group_id,
                description=f"{service} tasks to the {peer} endpoint",
            )
        endpoint = ec2.CfnVPCEndpoint(
            self,
            f"{name}Endpoint",
            vpc_endpoint_type="Interface",
            service_name=service_name,
            vpc_id=vpc_id,
            subnet_ids=subnets,
            security_group_ids=[group.attr_group_id],
            # Private DNS needs a verified domain; consumers use DnsEntries (§3a).
            private_dns_enabled=False,
        )
        # DnsEntries are "<hosted zone id>:<dns name>"; the first is the regional name.
        dns_name = cdk.Fn.select(1, cdk.Fn.split(":", cdk.Fn.select(0, endpoint.attr_dns_entries)))
        self.output(EndpointsOutputs.endpoint_id(peer), endpoint.ref)
        self.output(EndpointsOutputs.endpoint_dns(peer), dns_name)
        self.output(EndpointsOutputs.security_group_id(peer), group.attr_group_id)
