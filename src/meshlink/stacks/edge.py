"""edge[service]: what a provider exposes: task SG, NLB, target group, endpoint service.

A service no other service consumes exposes nothing: its edge is the task security
group alone (no NLB, target group, listener or endpoint service to pay for). Adding its
first consumer adds them; removing its last removes them.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from meshlink.stacks.base import MeshStack
from meshlink.stacks.common import (
    NO_EGRESS,
    acknowledge,
    checkov_skip,
    network_list,
    network_value,
    tcp_ingress_from_group,
)
from meshlink.stacks.outputs import EdgeOutputs
from meshlink.topology.model import Topology

HEALTH_CHECK_INTERVAL_SECONDS = 10
# Short drain keeps rolling deployments and `down` quick; the services are stateless.
DEREGISTRATION_DELAY_SECONDS = 30


class EdgeStack(MeshStack):
    """The provider side of a service: reachable only through its endpoint service."""

    def __init__(self, scope: Construct, topology: Topology, service: str) -> None:
        spec = topology.services[service]
        account = spec.account
        super().__init__(
            scope,
            mesh=topology.name,
            kind="edge",
            subject=service,
            account_id=topology.accounts[account].id,
            region=topology.region,
        )
        port = spec.port
        self.exposed = bool(topology.consumers_of(service))
        # Its own VPC's, or the shared VPC's (the networking account's network node).
        network = topology.network_account(account)
        vpc_id = network_value(self, network, "vpc_id")
        # Passed through as the comma-joined string the network output is.
        zone_ids = network_value(self, network, "az_ids")

        task_sg = ec2.CfnSecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc_id=vpc_id,
            # Also true of an unconsumed service (no NLB, no ingress at all), and the same
            # either way: a changed description would replace the group (and its users).
            group_description=f"{service} tasks: the service port from its NLB only",
            # Egress is the separate rules below and in the endpoints stack (one per
            # consumed peer, to its endpoint's group on its port). The list here never
            # changes: an update of it would revoke those separate rules.
            security_group_egress=[NO_EGRESS],
        )
        # HTTPS out, to anywhere: tasks pull their image (ECR, or any registry), ship logs
        # and read secrets over HTTPS. With NAT those are internet addresses no rule can
        # list (registries have no published ranges); without NAT the private route
        # tables lead only to the VPC's AWS service endpoints (interface endpoints in the
        # VPC, the S3 gateway endpoint's prefix list), so this reaches nothing else.
        # DNS needs no rule: security groups do not filter traffic to the Amazon DNS
        # server (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html).
        ec2.CfnSecurityGroupEgress(
            self,
            "TasksHttpsOut",
            group_id=task_sg.attr_group_id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ip="0.0.0.0/0",
            description="Image pulls, logs and secrets over HTTPS",
        )
        self.output(EdgeOutputs.PORT, str(port))
        self.output(EdgeOutputs.TASK_SECURITY_GROUP_ID, task_sg.attr_group_id)
        self.output(EdgeOutputs.ZONE_IDS, zone_ids)
        if self.exposed:
            self._expose(topology, service, vpc_id, task_sg)

    def _expose(
        self,
        topology: Topology,
        service: str,
        vpc_id: str,
        task_sg: ec2.CfnSecurityGroup,
    ) -> None:
        """The NLB, target group, listener and endpoint service of a consumed service."""
        spec = topology.services[service]
        private_subnets = network_list(
            self, topology.network_account(spec.account), "private_subnet_ids"
        )
        port = spec.port
        # PrivateLink delivers consumer traffic to the NLB, never to the tasks, and
        # nothing else in the VPC needs to reach the NLB. The NLB's own inbound rules are
        # not enforced on PrivateLink traffic (below), so the group needs no ingress at
        # all: an in-VPC client cannot bypass the endpoint path.
        nlb_sg = ec2.CfnSecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc_id=vpc_id,
            group_description=f"{service} NLB: PrivateLink in, the task port out",
            security_group_egress=[NO_EGRESS],
        )
        ec2.CfnSecurityGroupEgress(
            self,
            "LoadBalancerToTasks",
            group_id=nlb_sg.attr_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            destination_security_group_id=task_sg.attr_group_id,
            description="Forwarded connections and health checks",
        )
        tcp_ingress_from_group(
            self,
            "TasksFromLoadBalancer",
            group_id=task_sg.attr_group_id,
            source_group_id=nlb_sg.attr_group_id,
            port=port,
            description=f"{service} NLB to its tasks",
        )

        # No custom name, as for the target group below: CloudFormation can replace only
        # what it names itself (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html).
        # meshlink finds the NLB by the stack's outputs and its meshlink:* tags, never by name.
        nlb = elbv2.CfnLoadBalancer(
            self,
            "LoadBalancer",
            type="network",
            scheme="internal",
            subnets=private_subnets,
            # An NLB can only get security groups when it is created.
            security_groups=[nlb_sg.attr_group_id],
            # "off": consumer access is decided by each interface endpoint's security
            # group in the consumer's VPC (docs/ARCHITECTURE.md, PrivateLink rules). Rules
            # here could only name consumer addresses, which overlap across accounts and
            # mean nothing to this VPC; with "on" and no ingress rule every PrivateLink
            # connection would drop.
            enforce_security_group_inbound_rules_on_private_link_traffic="off",
            load_balancer_attributes=[
                # Endpoints sit in the zones the consumer shares with us; cross-zone
                # keeps them served even when a zone has no healthy task.
                elbv2.CfnLoadBalancer.LoadBalancerAttributeProperty(
                    key="load_balancing.cross_zone.enabled", value="true"
                ),
            ],
        )
        acknowledge(
            nlb,
            "AwsSolutions-ELB2",
            "Access logs need an S3 bucket with a bucket policy per account; meshlink "
            "services log requests themselves to the platform log group.",
        )
        checkov_skip(
            nlb,
            "CKV_AWS_91",
            "a Network Load Balancer writes access logs only for TLS listeners; this one "
            "forwards TCP (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/"
            "load-balancer-access-logs.html)",
        )
        # No custom name: a port change replaces the target group, and CloudFormation can
        # only replace a resource it names itself (the new one exists before the old goes).
        target_group = elbv2.CfnTargetGroup(
            self,
            "TargetGroup",
            port=port,
            protocol="TCP",
            target_type="ip",
            vpc_id=vpc_id,
            health_check_enabled=True,
            health_check_protocol="HTTP",
            health_check_path=spec.health_path,
            health_check_port="traffic-port",
            health_check_interval_seconds=HEALTH_CHECK_INTERVAL_SECONDS,
            healthy_threshold_count=2,
            unhealthy_threshold_count=2,
            target_group_attributes=[
                elbv2.CfnTargetGroup.TargetGroupAttributeProperty(
                    key="deregistration_delay.timeout_seconds",
                    value=str(DEREGISTRATION_DELAY_SECONDS),
                )
            ],
        )
        listener = elbv2.CfnListener(
            self,
            "Listener",
            load_balancer_arn=nlb.ref,
            port=port,
            protocol="TCP",
            default_actions=[
                elbv2.CfnListener.ActionProperty(type="forward", target_group_arn=target_group.ref)
            ],
        )

        endpoint_service = ec2.CfnVPCEndpointService(
            self,
            "EndpointService",
            network_load_balancer_arns=[nlb.ref],
            acceptance_required=spec.acceptance_required,
        )
        # A service whose NLB has no listener yet would accept connections to nothing.
        endpoint_service.node.add_dependency(listener)
        ec2.CfnVPCEndpointServicePermissions(
            self,
            "EndpointServicePermissions",
            service_id=endpoint_service.ref,
            allowed_principals=topology.allowed_principals(service),
        )
        service_name = cdk.Fn.join(
            ".", ["com.amazonaws.vpce", cdk.Aws.REGION, endpoint_service.ref]
        )

        self.output(EdgeOutputs.SERVICE_NAME, service_name)
        self.output(EdgeOutputs.SERVICE_ID, endpoint_service.ref)
        self.output(EdgeOutputs.LOAD_BALANCER_ARN, nlb.ref)
        self.output(EdgeOutputs.LOAD_BALANCER_DNS_NAME, nlb.attr_dns_name)
        self.output(EdgeOutputs.LOAD_BALANCER_SECURITY_GROUP_ID, nlb_sg.attr_group_id)
        self.output(EdgeOutputs.TARGET_GROUP_ARN, target_group.ref)
