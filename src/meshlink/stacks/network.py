"""One account's network as a CDK stack: the CDK twin of terraform/modules/account-network.

L1 resources rather than `aws_ec2.Vpc`: the subnets must have exactly the CIDRs of
`plan_subnets` (shared with Terraform) and be placed by zone *id*, not AZ name.
`us-east-1a` is a different physical zone in each account, and a consumer can use a
PrivateLink endpoint only in zones it shares with the provider, so every account's
subnets go in the mesh's zone ids (parameter `ZoneIds`, filled by the engine with
`meshlink.deploy.zones.common_zone_ids`). The outputs give each account's own names.
"""

from __future__ import annotations

import os

# Before aws_cdk loads: otherwise jsii prints an end-of-life banner for Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ram as ram
from constructs import Construct

# The contract's output names and reader live beside the contract (no aws_cdk there);
# imported here too for the stack and its callers.
from meshlink.engines.network_contract import (  # noqa: F401
    NETWORK_OUTPUTS,
    OUTPUT_NAMES,
    contract_outputs,
    output_name,
    subnet_share_name,
)
from meshlink.graph.parameters import MESH_ZONE_IDS
from meshlink.stacks.base import MeshStack
from meshlink.stacks.common import NO_EGRESS, encrypt_log_group
from meshlink.topology.addressing import plan_subnets
from meshlink.topology.model import NetworkOptions, Topology
from meshlink.topology.retention import retention_days

KIND = "network"
# AWS services reached through a gateway endpoint (route-table entries, no ENI).
GATEWAY_SERVICES = frozenset({"s3"})
# The parameter that carries the mesh's zone ids (comma-joined), in subnet order.
ZONE_IDS_PARAMETER = "ZoneIds"


class NetworkStack(MeshStack):
    """VPC, three subnet tiers per AZ, IGW, NAT, route tables, flow logs; contract outputs."""

    def __init__(
        self,
        scope: Construct,
        *,
        mesh: str,
        account: str,
        account_id: str,
        vpc_cidr: str,
        region: str,
        options: NetworkOptions,
        log_key: str | None = None,
        participants: Sequence[str] = (),
    ) -> None:
        super().__init__(
            scope, mesh=mesh, kind=KIND, subject=account, account_id=account_id, region=region
        )
        self._prefix = f"{mesh}-{account}"
        plan = plan_subnets(vpc_cidr, options.az_count)
        zone_ids = self.resolved(ZONE_IDS_PARAMETER, MESH_ZONE_IDS, type="CommaDelimitedList")
        zone_ids.description = (
            f"The mesh's {options.az_count} availability zone ids in subnet order "
            "(e.g. use1-az1,use1-az2): the same physical zones in every account of the mesh"
        )
        placed = [cdk.Fn.select(i, zone_ids.value_as_list) for i in range(options.az_count)]

        vpc = ec2.CfnVPC(
            self, "Vpc", cidr_block=vpc_cidr, enable_dns_support=True, enable_dns_hostnames=True
        )
        self._name(vpc, "vpc")
        igw = ec2.CfnInternetGateway(self, "InternetGateway")
        self._name(igw, "igw")
        attachment = ec2.CfnVPCGatewayAttachment(
            self, "InternetGatewayAttachment", vpc_id=vpc.ref, internet_gateway_id=igw.ref
        )

        def subnets(tier: str, cidrs: Iterable[str]) -> list[ec2.CfnSubnet]:
            made = []
            for index, (cidr, zone_id) in enumerate(zip(cidrs, placed, strict=True)):
                subnet = ec2.CfnSubnet(
                    self,
                    f"{tier.capitalize()}Subnet{index + 1}",
                    vpc_id=vpc.ref,
                    cidr_block=cidr,
                    availability_zone_id=zone_id,
                    map_public_ip_on_launch=False,
                )
                self._name(subnet, f"{tier}-{index + 1}")
                cdk.Tags.of(subnet).add("meshlink:tier", tier)
                made.append(subnet)
            return made

        public = subnets("public", plan.public)
        private = subnets("private", plan.private)
        isolated = subnets("isolated", plan.isolated)

        public_table = self._route_table(vpc, "Public", "public", public)
        default_route = ec2.CfnRoute(
            self,
            "PublicDefaultRoute",
            route_table_id=public_table.ref,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.ref,
        )
        default_route.node.add_dependency(attachment)

        nat_ids = self._nat_gateways(options.nat_gateways, public, attachment)
        private_tables = []
        for index, subnet in enumerate(private):
            table = self._route_table(vpc, f"Private{index + 1}", f"private-{index + 1}", [subnet])
            if nat_ids:
                ec2.CfnRoute(
                    self,
                    f"Private{index + 1}DefaultRoute",
                    route_table_id=table.ref,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_ids[index % len(nat_ids)],
                )
            private_tables.append(table)
        # Isolated subnets share one table with only the VPC-local route.
        self._route_table(vpc, "Isolated", "isolated", isolated)
        self._service_endpoints(
            vpc, private, plan.private, private_tables, region, options.service_endpoints()
        )

        if options.flow_logs:
            self._flow_logs(vpc, retention_days(options.flow_log_retention_days), log_key)
        if participants:
            self._share_subnets(mesh, account, private, participants)

        values: dict[str, str] = {
            "vpc_id": vpc.ref,
            "vpc_cidr": vpc_cidr,
            # This account's names for the zones (they differ between accounts).
            "azs": cdk.Fn.join(",", [s.attr_availability_zone for s in public]),
            # Zone ids, not names, are what PrivateLink compares across accounts.
            "az_ids": cdk.Fn.join(",", [s.attr_availability_zone_id for s in public]),
            "public_subnet_ids": cdk.Fn.join(",", [s.ref for s in public]),
            "private_subnet_ids": cdk.Fn.join(",", [s.ref for s in private]),
            "isolated_subnet_ids": cdk.Fn.join(",", [s.ref for s in isolated]),
            "private_route_table_ids": cdk.Fn.join(",", [t.ref for t in private_tables]),
        }
        for name in NETWORK_OUTPUTS:
            self.output(OUTPUT_NAMES[name], values[name], description=f"network contract {name}")

    def _name(self, resource: Construct, suffix: str) -> None:
        cdk.Tags.of(resource).add("Name", f"{self._prefix}-{suffix}")

    def _route_table(
        self, vpc: ec2.CfnVPC, id_: str, name: str, subnets: list[ec2.CfnSubnet]
    ) -> ec2.CfnRouteTable:
        table = ec2.CfnRouteTable(self, f"{id_}RouteTable", vpc_id=vpc.ref)
        self._name(table, name)
        for index, subnet in enumerate(subnets):
            ec2.CfnSubnetRouteTableAssociation(
                self,
                f"{id_}RouteTableAssociation{index + 1}",
                route_table_id=table.ref,
                subnet_id=subnet.ref,
            )
        return table

    def _nat_gateways(
        self, mode: str, public: list[ec2.CfnSubnet], attachment: cdk.CfnResource
    ) -> list[str]:
        count = {"none": 0, "single": 1, "per_az": len(public)}[mode]
        ids = []
        for index in range(count):
            eip = ec2.CfnEIP(self, f"NatEip{index + 1}", domain="vpc")
            self._name(eip, f"nat-{index + 1}")
            eip.node.add_dependency(attachment)
            nat = ec2.CfnNatGateway(
                self,
                f"NatGateway{index + 1}",
                subnet_id=public[index].ref,
                allocation_id=eip.attr_allocation_id,
            )
            self._name(nat, f"nat-{index + 1}")
            nat.node.add_dependency(attachment)
            ids.append(nat.ref)
        return ids

    def _service_endpoints(
        self,
        vpc: ec2.CfnVPC,
        private: list[ec2.CfnSubnet],
        private_cidrs: Iterable[str],
        private_tables: list[ec2.CfnRouteTable],
        region: str,
        services: Iterable[str],
    ) -> None:
        """VPC endpoints to AWS services, so tasks without NAT can pull from ECR and log.

        Interface endpoints get private DNS (the SDK's and the ECS agent's usual host
        names then resolve to them) in the private subnets, where the tasks run; s3 is a
        gateway endpoint on the private route tables (ECR keeps image layers in S3).
        https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
        """
        chosen = list(services)
        interface = [s for s in chosen if s not in GATEWAY_SERVICES]
        group: ec2.CfnSecurityGroup | None = None
        if interface:
            # HTTPS from the private subnets only (where tasks run), not the whole VPC:
            # the task groups live in later stacks, which a network cannot reference.
            group = ec2.CfnSecurityGroup(
                self,
                "ServiceEndpointsSecurityGroup",
                vpc_id=vpc.ref,
                group_description=f"{self._prefix}: HTTPS from the private subnets to AWS "
                "service endpoints",
                security_group_ingress=[
                    ec2.CfnSecurityGroup.IngressProperty(
                        ip_protocol="tcp",
                        from_port=443,
                        to_port=443,
                        cidr_ip=cidr,
                        description=f"HTTPS from private subnet {index + 1}",
                    )
                    for index, cidr in enumerate(private_cidrs)
                ],
                # An endpoint only answers connections; it never opens one.
                security_group_egress=[NO_EGRESS],
            )
            self._name(group, "aws-endpoints")
        for service in chosen:
            logical = "ServiceEndpoint" + "".join(w.capitalize() for w in service.split("."))
            name = f"com.amazonaws.{region}.{service}"
            if service in GATEWAY_SERVICES:
                endpoint = ec2.CfnVPCEndpoint(
                    self,
                    logical,
                    vpc_id=vpc.ref,
                    service_name=name,
                    vpc_endpoint_type="Gateway",
                    route_table_ids=[t.ref for t in private_tables],
                )
            else:
                assert group is not None
                endpoint = ec2.CfnVPCEndpoint(
                    self,
                    logical,
                    vpc_id=vpc.ref,
                    service_name=name,
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=[s.ref for s in private],
                    security_group_ids=[group.attr_group_id],
                )
            self._name(endpoint, f"aws-{service.replace('.', '-')}")

    def _share_subnets(
        self,
        mesh: str,
        account: str,
        private: list[ec2.CfnSubnet],
        participants: Sequence[str],
    ) -> None:
        """Share the private subnets with the mesh's other accounts through AWS RAM.

        They place their tasks, NLBs and security groups there; the VPC, its routes and
        every interface endpoint stay this account's
        (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html). AWS shares
        subnets only with accounts of this account's organization, with RAM sharing with
        the organization on; they get them at once, without an invitation.
        """
        ram.CfnResourceShare(
            self,
            "SubnetShare",
            name=subnet_share_name(mesh, account),
            allow_external_principals=True,
            principals=list(participants),
            resource_arns=[
                cdk.Fn.sub(
                    "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:subnet/${Id}",
                    {"Id": subnet.ref},
                )
                for subnet in private
            ],
            tags=[cdk.CfnTag(key="Name", value=f"{self._prefix}-subnets")],
        )

    def _flow_logs(self, vpc: ec2.CfnVPC, retention: int, log_key: str | None) -> None:
        group = logs.CfnLogGroup(self, "FlowLogGroup", retention_in_days=retention)
        encrypt_log_group(group, log_key)
        role = iam.CfnRole(
            self,
            "FlowLogRole",
            description=f"{self._prefix}: VPC flow logs deliver to CloudWatch Logs",
            assume_role_policy_document=_policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": self.account}},
                }
            ),
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name="deliver-flow-logs",
                    policy_document=_policy(
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": group.attr_arn,
                        },
                        # A list call: authorised against the log groups of the account and
                        # region, not one group; AWS's flow-log role grants it on "*"
                        # (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
                        {
                            "Effect": "Allow",
                            "Action": "logs:DescribeLogGroups",
                            "Resource": cdk.Fn.sub(
                                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                                ":log-group:*"
                            ),
                        },
                    ),
                )
            ],
        )
        flow_log = ec2.CfnFlowLog(
            self,
            "FlowLog",
            resource_id=vpc.ref,
            resource_type="VPC",
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_group_name=group.ref,
            deliver_logs_permission_arn=role.attr_arn,
        )
        self._name(flow_log, "flow-log")


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def build_network(
    topology: Topology, accounts: Iterable[str] | None = None
) -> Callable[[Any], None]:
    """A synth builder that adds the network stack of each account (default: all)."""
    chosen = list(topology.network_accounts() if accounts is None else accounts)

    def build(app: Any) -> None:
        for account in chosen:
            spec = topology.accounts[account]
            NetworkStack(
                app,
                mesh=topology.name,
                account=account,
                account_id=spec.id,
                vpc_cidr=topology.vpc_cidr_of(account),
                region=topology.region,
                options=topology.network,
                log_key=topology.logs.kms_key_arn,
                participants=topology.shared_with(account),
            )

    return build
