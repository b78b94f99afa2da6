"""What the mesh stacks share: output names (a contract with the executor), helpers."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from meshlink.graph.planner import node_id
from meshlink.stacks.base import MeshStack

# CloudFormation creates a security group with an allow-all egress rule unless the
# template lists egress rules; this rule matches no packet (ICMP type 252, code 86),
# the same trick CDK's SecurityGroup(allow_all_outbound=False) uses.
NO_EGRESS = ec2.CfnSecurityGroup.EgressProperty(
    ip_protocol="icmp",
    cidr_ip="255.255.255.255/32",
    from_port=252,
    to_port=86,
    description="Disallow all traffic",
)


def checkov_skip(resource: cdk.CfnResource, check_id: str, comment: str) -> None:
    """Tell checkov why `check_id` does not apply to `resource` (template Metadata)."""
    metadata = resource.get_metadata("checkov") or {"skip": []}
    metadata["skip"].append({"id": check_id, "comment": comment})
    resource.add_metadata("checkov", metadata)


def encrypt_log_group(group: logs.CfnLogGroup, key: str | None) -> None:
    """The mesh's KMS key (topology `logs.kms_key_arn`) on `group`, or why there is none."""
    if key:
        group.kms_key_id = key
        return
    checkov_skip(
        group,
        "CKV_AWS_158",
        "CloudWatch Logs encrypts every log group at rest with its own keys; a customer "
        "managed key is the user's choice (logs.kms_key_arn), since its key policy must "
        "admit CloudWatch Logs",
    )


def network_value(stack: MeshStack, account: str, output: str) -> str:
    """A scalar network output (network_contract names, e.g. vpc_id) of `account`."""
    return stack.upstream(node_id("network", account), output).value_as_string


def network_list(stack: MeshStack, account: str, output: str) -> list[str]:
    """A list network output (e.g. private_subnet_ids), passed comma-joined."""
    param = stack.upstream(node_id("network", account), output, type="CommaDelimitedList")
    return param.value_as_list


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept a cdk-nag finding on `scope` with the reason it does not apply here.

    cdk-nag 3 reads CDK's own Validations acknowledgements, so the stacks need no
    runtime dependency on cdk-nag for their suppressions to be honoured.
    """
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def tcp_ingress_from_group(
    stack: MeshStack,
    construct_id: str,
    *,
    group_id: Any,
    source_group_id: Any,
    port: int,
    description: str,
) -> ec2.CfnSecurityGroupIngress:
    """One ingress rule: TCP `port` into `group_id` from members of `source_group_id`."""
    return ec2.CfnSecurityGroupIngress(
        stack,
        construct_id,
        group_id=group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        source_security_group_id=source_group_id,
        description=description,
    )
