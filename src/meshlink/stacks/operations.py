"""What a service stack adds for operations: its log group, auto scaling, alarms, secrets.

Kept apart from `service.py` (the task and the ECS service) so each stays readable.
Names are deterministic where verify and operators look things up (log groups, alarms,
the alerts topic); none of these resources is ever replaced by a property change
(their names are their only create-only property), so a custom name is safe here.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from meshlink.stacks.base import MeshStack
from meshlink.stacks.common import acknowledge, encrypt_log_group
from meshlink.topology.model import Service, Topology
from meshlink.topology.retention import retention_days

SCALABLE_DIMENSION = "ecs:service:DesiredCount"
# AWS's X-Ray daemon image (https://gallery.ecr.aws/xray/aws-xray-daemon), major version 3.
XRAY_DAEMON_IMAGE = "public.ecr.aws/xray/aws-xray-daemon:3.x"
XRAY_DAEMON_ADDRESS = "127.0.0.1:2000"  # containers of a Fargate task share localhost
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
# Alarms look at one-minute periods; three in a row before they fire.
ALARM_PERIOD_SECONDS = 60
ALARM_PERIODS = 3


def service_log_group_name(mesh: str, service: str) -> str:
    """The log group of one service's tasks (its retention is the service's own)."""
    return f"/meshlink/{mesh}/{service}"


def service_log_group_arn(mesh: str, service: str) -> str:
    """Its ARN in the stack's account and region; ":*" covers its streams."""
    return cdk.Fn.sub(
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
        + service_log_group_name(mesh, service)
        + ":*"
    )


def acknowledge_log_streams(role: Any, mesh: str, services: list[str]) -> None:
    """The ":*" of a log group's ARN is its streams, which ECS names at task start."""
    for service in services:
        group = service_log_group_name(mesh, service)
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            f"<AWS::AccountId>:log-group:{group}:*]",
            f"the streams of {group}, this service's own log group, are named by ECS when "
            "a task starts",
        )


def alarm_name(mesh: str, subject: str, what: str) -> str:
    """`meshlink-<mesh>-<subject>-<what>`: verify finds the mesh's alarms by this prefix."""
    return f"{alarm_prefix(mesh)}{subject}-{what}"


def alarm_prefix(mesh: str) -> str:
    return f"meshlink-{mesh}-"


def alerts_topic_name(mesh: str) -> str:
    """The topic meshlink creates in each account for `alerts: {email: ...}`."""
    return f"meshlink-{mesh}-alerts"


def alarm_actions(topology: Topology) -> list[str]:
    """Where a stack's alarms notify: the user's topic, or meshlink's in this account."""
    alerts = topology.alerts
    if alerts is None:
        return []
    if alerts.sns_topic_arn is not None:
        return [alerts.sns_topic_arn]
    return [
        cdk.Fn.sub(
            "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:"
            + alerts_topic_name(topology.name)
        )
    ]


def add_alerts_topic(stack: MeshStack, topology: Topology) -> None:
    """`alerts: {email: ...}`: a topic in this account that mails the address.

    Not encrypted: CloudWatch alarms cannot publish to a topic encrypted with the AWS
    managed key (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger),
    and an alarm's notification carries no secret.
    """
    alerts = topology.alerts
    if alerts is None or alerts.email is None:
        return
    topic = sns.CfnTopic(
        stack,
        "AlertsTopic",
        topic_name=alerts_topic_name(topology.name),
        display_name=f"meshlink {topology.name} alarms",
        subscription=[sns.CfnTopic.SubscriptionProperty(endpoint=alerts.email, protocol="email")],
    )
    topic.add_metadata(
        "checkov",
        {
            "skip": [
                {
                    "id": "CKV_AWS_26",
                    "comment": "CloudWatch alarms cannot publish to an SNS topic encrypted with "
                    "the AWS managed key; alarm notifications carry no secrets.",
                }
            ]
        },
    )
    acknowledge(topic, "AwsSolutions-SNS2", "alarm notifications carry no secrets (see above)")
    acknowledge(topic, "AwsSolutions-SNS3", "only CloudWatch publishes; subscribers get e-mail")


def add_log_group(stack: MeshStack, topology: Topology, service: str) -> str:
    """The service's own log group, kept `log_retention_days`; gone with the stack."""
    group = logs.CfnLogGroup(
        stack,
        "LogGroup",
        log_group_name=service_log_group_name(topology.name, service),
        retention_in_days=retention_days(topology.services[service].log_retention_days),
    )
    group.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    encrypt_log_group(group, topology.logs.kms_key_arn)
    return str(group.ref)


def secret_arn(secret: str) -> str:
    """The IAM resource of a secret given by ARN, or by name in the stack's account.

    Secrets Manager appends six random characters to a secret's ARN, so a name matches
    with "-??????" (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html).
    """
    if secret.startswith("arn:"):
        return secret
    return cdk.Fn.sub(
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        + secret
        + "-??????"
    )


def container_secrets(spec: Service) -> list[ecs.CfnTaskDefinition.SecretProperty] | None:
    """The task's secrets: only references; ECS reads the values when a task starts."""
    if not spec.secrets:
        return None
    return [
        ecs.CfnTaskDefinition.SecretProperty(name=variable, value_from=secret)
        for variable, secret in sorted(spec.secrets.items())
    ]


def secrets_statement(spec: Service) -> dict[str, Any]:
    """The execution role may read exactly the service's secrets."""
    return {
        "Sid": "ReadSecrets",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": sorted(secret_arn(s) for s in set(spec.secrets.values())),
    }


def add_scaling(
    stack: MeshStack,
    spec: Service,
    *,
    cluster: str,
    service: str,
    fargate: ecs.CfnService,
    load_balancer_arn: str | None,
) -> None:
    """Target tracking on the ECS service's task count, between scaling.min and .max.

    No RoleARN: Application Auto Scaling then uses its service-linked role for ECS
    (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html).
    """
    scaling = spec.scaling
    if scaling is None:
        return
    target = appscaling.CfnScalableTarget(
        stack,
        "ScalableTarget",
        service_namespace="ecs",
        scalable_dimension=SCALABLE_DIMENSION,
        resource_id=cdk.Fn.join("/", ["service", cluster, service]),
        min_capacity=scaling.min,
        max_capacity=scaling.max,
    )
    target.add_resource_dependency(fargate)
    config = appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty
    if scaling.cpu_target is not None:
        tracking = config(
            target_value=scaling.cpu_target,
            predefined_metric_specification=appscaling.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
                predefined_metric_type="ECSServiceAverageCPUUtilization"
            ),
        )
    else:
        assert scaling.requests_target is not None and load_balancer_arn is not None
        tracking = config(
            target_value=scaling.requests_target,
            customized_metric_specification=_connections_per_task(
                cluster, service, load_balancer_arn
            ),
        )
    appscaling.CfnScalingPolicy(
        stack,
        "ScalingPolicy",
        policy_name=f"{service}-target-tracking",
        policy_type="TargetTrackingScaling",
        scaling_target_id=target.ref,
        target_tracking_scaling_policy_configuration=tracking,
    )


def _connections_per_task(
    cluster: str, service: str, load_balancer_arn: str
) -> appscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty:
    """New connections per minute through the NLB, over the running tasks (metric math:
    https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html)."""
    policy = appscaling.CfnScalingPolicy

    def stat(query_id: str, namespace: str, name: str, dims: dict[str, str], statistic: str) -> Any:
        return policy.TargetTrackingMetricDataQueryProperty(
            id=query_id,
            return_data=False,
            metric_stat=policy.TargetTrackingMetricStatProperty(
                metric=policy.TargetTrackingMetricProperty(
                    namespace=namespace,
                    metric_name=name,
                    dimensions=[
                        policy.TargetTrackingMetricDimensionProperty(name=k, value=v)
                        for k, v in dims.items()
                    ],
                ),
                stat=statistic,
            ),
        )

    flows = stat(
        "flows",
        "AWS/NetworkELB",
        "NewFlowCount",
        {"LoadBalancer": load_balancer_full_name(load_balancer_arn)},
        "Sum",
    )
    tasks = stat(
        "tasks",
        CONTAINER_INSIGHTS,
        "RunningTaskCount",
        {"ClusterName": cluster, "ServiceName": service},
        "Average",
    )
    per_task = policy.TargetTrackingMetricDataQueryProperty(
        id="per_task", expression="flows / tasks", label="connections per task", return_data=True
    )
    return policy.CustomizedMetricSpecificationProperty(metrics=[flows, tasks, per_task])


def load_balancer_full_name(arn: str) -> str:
    """`net/<name>/<id>`, the NLB's metric dimension, from its ARN."""
    return cdk.Fn.select(1, cdk.Fn.split("loadbalancer/", arn))


def target_group_full_name(arn: str) -> str:
    """`targetgroup/<name>/<id>`, the target group's metric dimension, from its ARN."""
    return cdk.Fn.select(5, cdk.Fn.split(":", arn))


def add_service_alarms(
    stack: MeshStack,
    topology: Topology,
    service: str,
    *,
    cluster: str,
    target_group_arn: str | None,
    load_balancer_arn: str | None,
    endpoint_service_id: str | None,
) -> None:
    """No healthy target behind the NLB; fewer connected endpoints than consumers;
    fewer running tasks than desired."""
    mesh, actions = topology.name, alarm_actions(topology)
    consumers = topology.consumers_of(service)
    if endpoint_service_id is not None and consumers:
        # AWS publishes no state metric per interface endpoint; the endpoint service counts
        # the endpoints connected to it (available and accepted), so one alarm per provider
        # covers each of its incoming edges (AWS/PrivateLinkServices EndpointsCount:
        # https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-cloudwatch-metrics.html).
        cloudwatch.CfnAlarm(
            stack,
            "EndpointsConnectedAlarm",
            alarm_name=alarm_name(mesh, service, "endpoints-connected"),
            alarm_description=f"meshlink {mesh}: fewer than {len(consumers)} endpoints "
            f"({', '.join(consumers)}) connected to {service}'s endpoint service",
            namespace="AWS/PrivateLinkServices",
            metric_name="EndpointsCount",
            dimensions=[
                cloudwatch.CfnAlarm.DimensionProperty(name="Service Id", value=endpoint_service_id)
            ],
            statistic="Minimum",
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=ALARM_PERIODS,
            comparison_operator="LessThanThreshold",
            threshold=len(consumers),
            treat_missing_data="breaching",
            alarm_actions=actions or None,
            ok_actions=actions or None,
        )
    if target_group_arn is not None and load_balancer_arn is not None:
        cloudwatch.CfnAlarm(
            stack,
            "NoHealthyTargetAlarm",
            alarm_name=alarm_name(mesh, service, "no-healthy-targets"),
            alarm_description=f"meshlink {mesh}: no healthy target behind {service}'s NLB",
            namespace="AWS/NetworkELB",
            metric_name="HealthyHostCount",
            dimensions=[
                cloudwatch.CfnAlarm.DimensionProperty(
                    name="LoadBalancer", value=load_balancer_full_name(load_balancer_arn)
                ),
                cloudwatch.CfnAlarm.DimensionProperty(
                    name="TargetGroup", value=target_group_full_name(target_group_arn)
                ),
            ],
            statistic="Minimum",
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=ALARM_PERIODS,
            comparison_operator="LessThanThreshold",
            threshold=1,
            treat_missing_data="breaching",
            alarm_actions=actions or None,
            ok_actions=actions or None,
        )
    dims = [
        cloudwatch.CfnAlarm.DimensionProperty(name="ClusterName", value=cluster),
        cloudwatch.CfnAlarm.DimensionProperty(name="ServiceName", value=service),
    ]

    def count(query_id: str, name: str) -> cloudwatch.CfnAlarm.MetricDataQueryProperty:
        return cloudwatch.CfnAlarm.MetricDataQueryProperty(
            id=query_id,
            return_data=False,
            metric_stat=cloudwatch.CfnAlarm.MetricStatProperty(
                metric=cloudwatch.CfnAlarm.MetricProperty(
                    namespace=CONTAINER_INSIGHTS, metric_name=name, dimensions=dims
                ),
                period=ALARM_PERIOD_SECONDS,
                stat="Average",
            ),
        )

    cloudwatch.CfnAlarm(
        stack,
        "TasksBelowDesiredAlarm",
        alarm_name=alarm_name(mesh, service, "tasks-below-desired"),
        alarm_description=f"meshlink {mesh}: {service} runs fewer tasks than desired",
        metrics=[
            count("running", "RunningTaskCount"),
            count("desired", "DesiredTaskCount"),
            cloudwatch.CfnAlarm.MetricDataQueryProperty(
                id="short",
                expression="IF(running < desired, 1, 0)",
                label="tasks below desired",
                return_data=True,
            ),
        ],
        evaluation_periods=ALARM_PERIODS,
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1,
        treat_missing_data="notBreaching",
        alarm_actions=actions or None,
        ok_actions=actions or None,
    )


def tracing_environment(spec: Service) -> dict[str, str]:
    """What tells the bundled service to send X-Ray segments, and where."""
    if spec.tracing != "xray":
        return {}
    return {"MESHLINK_TRACING": "xray", "AWS_XRAY_DAEMON_ADDRESS": XRAY_DAEMON_ADDRESS}


def xray_sidecar(
    spec: Service, service: str, log_group: str, region: str
) -> list[ecs.CfnTaskDefinition.ContainerDefinitionProperty]:
    """The X-Ray daemon beside the service (not essential: without it, no traces)."""
    if spec.tracing != "xray":
        return []
    return [
        ecs.CfnTaskDefinition.ContainerDefinitionProperty(
            name="xray-daemon",
            image=XRAY_DAEMON_IMAGE,
            essential=False,
            cpu=32,
            memory_reservation=64,
            port_mappings=[
                ecs.CfnTaskDefinition.PortMappingProperty(container_port=2000, protocol="udp")
            ],
            readonly_root_filesystem=True,
            log_configuration=ecs.CfnTaskDefinition.LogConfigurationProperty(
                log_driver="awslogs",
                options={
                    "awslogs-group": log_group,
                    "awslogs-region": region,
                    "awslogs-stream-prefix": f"{service}-xray",
                },
            ),
        )
    ]


def add_task_role(stack: MeshStack, topology: Topology, service: str) -> str | None:
    """The task role: only a traced service needs one (the daemon uploads segments)."""
    if topology.services[service].tracing != "xray":
        return None
    role = task_assumed_role(
        stack,
        "TaskRole",
        f"meshlink {topology.name}: {service}'s X-Ray daemon uploads traces",
        "xray-write",
        [
            {
                "Sid": "UploadTraces",
                "Effect": "Allow",
                # The actions of AWS's AWSXRayDaemonWriteAccess policy.
                "Action": [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ],
                "Resource": "*",
            }
        ],
    )
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray's PutTraceSegments, PutTelemetryRecords and sampling actions support no "
        "resource-level permissions (https://docs.aws.amazon.com/service-authorization/"
        "latest/reference/list_awsx-ray.html)",
    )
    return str(role.attr_arn)


def task_assumed_role(
    stack: MeshStack,
    construct_id: str,
    description: str,
    policy_name: str,
    statements: list[Any],
) -> iam.CfnRole:
    """A role only ECS tasks of this account may assume, with one inline policy."""
    from meshlink.stacks.platform import task_trust_policy

    return iam.CfnRole(
        stack,
        construct_id,
        description=description,
        assume_role_policy_document=task_trust_policy(stack.account),
        policies=[
            iam.CfnRole.PolicyProperty(
                policy_name=policy_name,
                policy_document={"Version": "2012-10-17", "Statement": statements},
            )
        ],
    )
