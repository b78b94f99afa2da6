"""platform[account]: the ECS cluster, log group, task execution role and verify's probe
task definition of one account."""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from meshlink.stacks import operations
from meshlink.stacks.base import MeshStack
from meshlink.stacks.common import acknowledge, encrypt_log_group
from meshlink.stacks.operations import service_log_group_arn
from meshlink.stacks.outputs import PlatformOutputs
from meshlink.topology.model import Topology

LOG_RETENTION_DAYS = 30
PROBE_CONTAINER = "probe"  # the probe task's container (and its log stream prefix)

# <registry account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>[:tag|@digest]
_ECR_IMAGE = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com"
    r"(?:\.cn)?/(?P<repository>[^:@]+)"
)


def cluster_name(mesh: str) -> str:
    """Name of the mesh's ECS cluster (one per account)."""
    return f"meshlink-{mesh}"


def log_group_name(mesh: str) -> str:
    """Name of the mesh's log group (one per account); streams are per service."""
    return f"/meshlink/{mesh}"


def probe_family(mesh: str) -> str:
    """Task definition family of verify's probe task (one per account).

    The underscore keeps it apart from every service's family (``<mesh>-<service>``:
    service names have none)."""
    return f"{mesh}_probe"


def ecr_repository_arns(images: list[str]) -> list[str]:
    """ARNs of the private ECR repositories among `images` (public registries need none)."""
    arns = set()
    for image in images:
        match = _ECR_IMAGE.match(image)
        if match:
            arns.add(
                f"arn:{cdk.Aws.PARTITION}:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"
            )
    return sorted(arns)


class PlatformStack(MeshStack):
    """ECS cluster with Container Insights, a log group, the task execution role."""

    def __init__(self, scope: Construct, topology: Topology, account: str) -> None:
        super().__init__(
            scope,
            mesh=topology.name,
            kind="platform",
            subject=account,
            account_id=topology.accounts[account].id,
            region=topology.region,
        )
        mesh = topology.name
        cluster = ecs.CfnCluster(
            self,
            "Cluster",
            cluster_name=cluster_name(mesh),
            cluster_settings=[
                ecs.CfnCluster.ClusterSettingsProperty(name="containerInsights", value="enabled")
            ],
        )
        log_group = logs.CfnLogGroup(
            self,
            "LogGroup",
            log_group_name=log_group_name(mesh),
            retention_in_days=LOG_RETENTION_DAYS,
        )
        # `down` must leave nothing behind: the log group goes with the stack.
        log_group.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
        encrypt_log_group(log_group, topology.logs.kms_key_arn)

        images = [topology.services[s].image for s in topology.services_in(account)]
        # Each service ships its logs to a log group of its own (stacks/operations.py).
        log_groups = [
            log_group.attr_arn,
            *(service_log_group_arn(mesh, s) for s in topology.services_in(account)),
        ]
        images.append(topology.probe_image)
        role = iam.CfnRole(
            self,
            "ExecutionRole",
            description=f"meshlink {mesh}: pulls images and ships logs for ECS tasks",
            assume_role_policy_document=self._trust_policy(),
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name="task-execution",
                    policy_document=execution_policy(log_groups, images),
                )
            ],
        )
        operations.acknowledge_log_streams(role, mesh, topology.services_in(account))
        if ecr_repository_arns(images):
            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::*]",
                "ecr:GetAuthorizationToken supports no resource-level permissions; "
                "image pulls themselves are limited to the repositories the services use.",
            )

        operations.add_alerts_topic(self, topology)
        probe = self._probe_task_definition(topology, log_group.ref, role.attr_arn)

        self.output(PlatformOutputs.CLUSTER_NAME, cluster.ref)
        self.output(PlatformOutputs.CLUSTER_ARN, cluster.attr_arn)
        self.output(PlatformOutputs.LOG_GROUP_NAME, log_group.ref)
        self.output(PlatformOutputs.LOG_GROUP_ARN, log_group.attr_arn)
        self.output(PlatformOutputs.EXECUTION_ROLE_ARN, role.attr_arn)
        self.output(PlatformOutputs.PROBE_TASK_DEFINITION_ARN, probe.ref)

    def _probe_task_definition(
        self, topology: Topology, log_group: str, execution_role: str
    ) -> ecs.CfnTaskDefinition:
        """What `meshlink verify` runs in a consumer's network: the probe, not the service.

        Its own image (topology `probe_image`, pinned by digest; `verify --probe-image`
        registers a revision for one run), so a service whose image is not the bundled
        service is still probed. No task role: the probe calls no AWS API. The command
        is set per run (`probe-all NAME=HOST:PORT ...`, arguments to the image's
        entrypoint `python -m meshlink_service`).
        """
        container = ecs.CfnTaskDefinition.ContainerDefinitionProperty(
            name=PROBE_CONTAINER,
            image=topology.probe_image,
            essential=True,
            command=["probe-all"],
            readonly_root_filesystem=True,
            log_configuration=ecs.CfnTaskDefinition.LogConfigurationProperty(
                log_driver="awslogs",
                options={
                    "awslogs-group": log_group,
                    "awslogs-region": self.region,
                    "awslogs-stream-prefix": PROBE_CONTAINER,
                },
            ),
        )
        return ecs.CfnTaskDefinition(
            self,
            "ProbeTaskDefinition",
            family=probe_family(topology.name),
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu="256",
            memory="512",
            execution_role_arn=execution_role,
            container_definitions=[container],
        )

    def _trust_policy(self) -> dict[str, object]:
        return task_trust_policy(self.account)


def task_trust_policy(account: str) -> dict[str, object]:
    """Who may assume a task execution role: only ECS acting for this account."""
    # Confused-deputy guard: aws:SourceAccount.
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def execution_policy(log_group_arns: list[str], images: list[str]) -> dict[str, object]:
    """Narrower than AmazonECSTaskExecutionRolePolicy: these log groups, these repositories."""
    statements: list[dict[str, object]] = [
        {
            "Sid": "ShipLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            # Each log group's ARN ends in ":*", which covers its streams.
            "Resource": log_group_arns,
        }
    ]
    repositories = ecr_repository_arns(images)
    if repositories:
        statements += [
            {
                "Sid": "EcrLogin",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "PullImages",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": repositories,
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}
