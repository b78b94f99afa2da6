"""Auto scaling and CloudWatch alarms in CloudFormation, which moto 5.2.5 lacks.

moto answers the Application Auto Scaling and CloudWatch APIs, but its CloudFormation
knows neither ``AWS::ApplicationAutoScaling::ScalableTarget`` / ``::ScalingPolicy`` nor
``AWS::CloudWatch::Alarm``. These models create, update and delete them through moto's
own backends, as CloudFormation does through the APIs:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-applicationautoscaling-scalabletarget.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-applicationautoscaling-scalingpolicy.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudwatch-alarm.html.
Like AWS, registering a scalable target for an ECS service that does not exist fails.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches.registry import (
    CfnCall,
    NewModel,
    Properties,
    cfn,
    cfn_model,
    on_delete,
)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


@cfn_model(
    "AWS::ApplicationAutoScaling::ScalableTarget",
    module="moto.applicationautoscaling.models.meshlink_scalable_target",
)
class ScalableTarget(NewModel):
    """A registered scalable target; its Ref is ``<resource id>|<dimension>|<namespace>``."""

    CFN_ATTRIBUTE = "Id"

    def __init__(self, properties: Properties):
        super().__init__()
        self.namespace = str(properties["ServiceNamespace"])
        self.resource_id = str(properties["ResourceId"])
        self.dimension = str(properties["ScalableDimension"])
        # The Ref AWS documents for this resource type.
        self.id = f"{self.resource_id}|{self.dimension}|{self.namespace}"


def _register(properties: Properties, backend: Any) -> None:
    suspended = properties.get("SuspendedState")
    backend.register_scalable_target(
        namespace=properties["ServiceNamespace"],
        r_id=properties["ResourceId"],
        dimension=properties["ScalableDimension"],
        min_capacity=_int(properties.get("MinCapacity")),
        max_capacity=_int(properties.get("MaxCapacity")),
        role_arn=properties.get("RoleARN", ""),
        suspended_state=suspended if isinstance(suspended, dict) else None,
    )


@cfn(ScalableTarget, "create", backend="applicationautoscaling")
def _create_target(properties: Properties, backend: Any, call: CfnCall) -> Any:
    _register(properties, backend)
    return call.model(properties)


@cfn(ScalableTarget, "update", backend="applicationautoscaling")
def _update_target(properties: Properties, backend: Any, call: CfnCall) -> Any:
    _register(properties, backend)
    return call.model(properties)


@on_delete(ScalableTarget, backend="applicationautoscaling")
def _delete_target(target: Any, backend: Any) -> None:
    if target.resource_id in backend.targets.get(target.dimension, {}):
        backend.deregister_scalable_target(target.namespace, target.resource_id, target.dimension)
    for key in [k for k, p in backend.policies.items() if p.resource_id == target.resource_id]:
        del backend.policies[key]


@cfn_model(
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    module="moto.applicationautoscaling.models.meshlink_scaling_policy",
)
class ScalingPolicy(NewModel):
    """A target tracking or step scaling policy; its Ref is the policy ARN."""

    CFN_ATTRIBUTE = "Arn"

    def __init__(self, policy: Any):
        super().__init__()
        self.id = policy.policy_arn
        self.name = policy.policy_name
        self.namespace = policy.service_namespace
        self.resource_id = policy.resource_id
        self.dimension = policy.scalable_dimension


def _put_policy(properties: Properties, backend: Any, name: str) -> Any:
    target = properties.get("ScalingTargetId")
    resource_id, dimension, namespace = (
        str(target).split("|")
        if target
        else (
            properties["ResourceId"],
            properties["ScalableDimension"],
            properties["ServiceNamespace"],
        )
    )
    policy_type = properties["PolicyType"]
    body = properties.get(
        "TargetTrackingScalingPolicyConfiguration"
        if policy_type == "TargetTrackingScaling"
        else "StepScalingPolicyConfiguration"
    )
    return backend.put_scaling_policy(
        policy_name=properties.get("PolicyName", name),
        service_namespace=namespace,
        resource_id=resource_id,
        scalable_dimension=dimension,
        policy_body=body or {},
        policy_type=policy_type,
    )


@cfn(ScalingPolicy, "create", backend="applicationautoscaling")
def _create_policy(properties: Properties, backend: Any, call: CfnCall) -> Any:
    return call.model(_put_policy(properties, backend, call.name))


@cfn(ScalingPolicy, "update", backend="applicationautoscaling")
def _update_policy(properties: Properties, backend: Any, call: CfnCall) -> Any:
    return call.model(_put_policy(properties, backend, call.current.name))


@on_delete(ScalingPolicy, backend="applicationautoscaling")
def _delete_policy(policy: Any, backend: Any) -> None:
    for key, found in list(backend.policies.items()):
        if found.policy_arn == policy.id:
            del backend.policies[key]


@cfn_model("AWS::CloudWatch::Alarm", module="moto.cloudwatch.models.meshlink_alarm")
class Alarm(NewModel):
    """A metric (or metric math) alarm; its Ref is the alarm's name."""

    CFN_ATTRIBUTE, CFN_ATTRIBUTE_FROM = "Arn", "arn"

    def __init__(self, alarm: Any):
        super().__init__()
        self.id = alarm.name
        self.arn = alarm.alarm_arn


def _queries(properties: Properties) -> list[Any] | None:
    """``Metrics`` (metric math) as moto's own PutMetricAlarm parses them."""
    from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat

    found = properties.get("Metrics")
    if not found:
        return None
    queries = []
    for query in found:
        stat = query.get("MetricStat")
        metric_stat = None
        if stat:
            metric = stat["Metric"]
            metric_stat = MetricStat(
                metric=Metric(
                    metric_name=metric["MetricName"],
                    namespace=metric.get("Namespace"),
                    dimensions=[
                        Dimension(name=d["Name"], value=d["Value"])
                        for d in metric.get("Dimensions", [])
                    ],
                ),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        queries.append(
            MetricDataQuery(
                query_id=query["Id"],
                label=query.get("Label"),
                period=query.get("Period"),
                return_data=query.get("ReturnData"),
                expression=query.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries


def _put_alarm(properties: Properties, backend: Any, name: str) -> Any:
    return backend.put_metric_alarm(
        name=properties.get("AlarmName", name),
        namespace=properties.get("Namespace", ""),
        metric_name=properties.get("MetricName", ""),
        comparison_operator=properties["ComparisonOperator"],
        evaluation_periods=int(properties["EvaluationPeriods"]),
        period=int(properties.get("Period", 60)),
        threshold=float(properties.get("Threshold", 0)),
        statistic=properties.get("Statistic", ""),
        description=properties.get("AlarmDescription", ""),
        dimensions=[
            {"Name": d["Name"], "Value": d["Value"]} for d in properties.get("Dimensions", [])
        ],
        alarm_actions=list(properties.get("AlarmActions", [])),
        metric_data_queries=_queries(properties),
        datapoints_to_alarm=_int(properties.get("DatapointsToAlarm")),
        ok_actions=list(properties.get("OKActions", [])),
        insufficient_data_actions=list(properties.get("InsufficientDataActions", [])),
        actions_enabled=str(properties.get("ActionsEnabled", "true")).lower() == "true",
        treat_missing_data=properties.get("TreatMissingData"),
    )


@cfn(Alarm, "create", backend="cloudwatch")
def _create_alarm(properties: Properties, backend: Any, call: CfnCall) -> Any:
    return call.model(_put_alarm(properties, backend, call.name))


@cfn(Alarm, "update", backend="cloudwatch")
def _update_alarm(properties: Properties, backend: Any, call: CfnCall) -> Any:
    return call.model(_put_alarm(properties, backend, call.current.id))


@on_delete(Alarm, backend="cloudwatch")
def _delete_alarm(alarm: Any, backend: Any) -> None:
    backend.delete_alarms([alarm.id])
