"""Output names of the mesh stacks: the contract between stacks, executor and verify.

Free of aws_cdk on purpose: `status` and `verify` read outputs without loading CDK.
"""

from __future__ import annotations

from meshlink.topology.naming import logical_id


class PlatformOutputs:
    """CloudFormation output keys of a platform:<account> stack."""

    CLUSTER_NAME = "ClusterName"
    CLUSTER_ARN = "ClusterArn"
    LOG_GROUP_NAME = "LogGroupName"
    LOG_GROUP_ARN = "LogGroupArn"
    EXECUTION_ROLE_ARN = "ExecutionRoleArn"
    PROBE_TASK_DEFINITION_ARN = "ProbeTaskDefinitionArn"  # verify's probe task


class EdgeOutputs:
    """CloudFormation output keys of an edge:<service> stack."""

    SERVICE_NAME = "ServiceName"  # com.amazonaws.vpce.<region>.<ServiceId>
    SERVICE_ID = "ServiceId"
    PORT = "Port"
    LOAD_BALANCER_ARN = "LoadBalancerArn"
    LOAD_BALANCER_DNS_NAME = "LoadBalancerDnsName"
    LOAD_BALANCER_SECURITY_GROUP_ID = "LoadBalancerSecurityGroupId"
    TARGET_GROUP_ARN = "TargetGroupArn"
    TASK_SECURITY_GROUP_ID = "TaskSecurityGroupId"
    ZONE_IDS = "ZoneIds"  # comma-joined AZ ids the NLB (and so the service) spans


class EndpointsOutputs:
    """CloudFormation output keys of an endpoints:<service> stack, per consumed peer."""

    @staticmethod
    def endpoint_id(peer: str) -> str:
        """Id (vpce-...) of the endpoint to `peer`."""
        return f"Endpoint{logical_id(peer)}Id"

    @staticmethod
    def endpoint_dns(peer: str) -> str:
        """Regional DNS name of the endpoint to `peer` (its first DnsEntries entry)."""
        return f"Endpoint{logical_id(peer)}Dns"

    @staticmethod
    def security_group_id(peer: str) -> str:
        """Security group of the endpoint to `peer`."""
        return f"Endpoint{logical_id(peer)}SecurityGroupId"


class ServiceOutputs:
    """CloudFormation output keys of a service:<service> stack."""

    ECS_SERVICE_ARN = "EcsServiceArn"
    ECS_SERVICE_NAME = "EcsServiceName"
    TASK_DEFINITION_ARN = "TaskDefinitionArn"
