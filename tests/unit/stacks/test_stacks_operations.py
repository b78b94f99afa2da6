"""Operations in the service stacks: log groups, scaling, alarms, secrets, alerts."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.stacks.stacks_helpers import Mesh, resources


def _one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = resources(template, kind).values()
    props: dict[str, Any] = found["Properties"]
    return props


def test_each_service_logs_to_its_own_group_kept_its_own_days(two_way: Mesh) -> None:
    template = two_way.templates["service:user-service"]
    group = _one(template, "AWS::Logs::LogGroup")
    assert group["LogGroupName"] == "/meshlink/shop/user-service"
    assert group["RetentionInDays"] == 7
    other = _one(two_way.templates["service:notification-service"], "AWS::Logs::LogGroup")
    assert other["RetentionInDays"] == 30
    (container,) = _one(template, "AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "LogGroup"}


def test_cpu_target_tracking_between_min_and_max(two_way: Mesh) -> None:
    template = two_way.templates["service:user-service"]
    target = _one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    assert "RoleARN" not in target  # the service-linked role
    policy = _one(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 60
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
    }


def test_requests_target_tracks_new_connections_per_running_task(two_way: Mesh) -> None:
    policy = _one(
        two_way.templates["service:notification-service"],
        "AWS::ApplicationAutoScaling::ScalingPolicy",
    )
    metrics = policy["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"][
        "Metrics"
    ]
    by_id = {m["Id"]: m for m in metrics}
    assert by_id["per_task"]["Expression"] == "flows / tasks"
    assert by_id["flows"]["MetricStat"]["Metric"]["MetricName"] == "NewFlowCount"
    assert by_id["tasks"]["MetricStat"]["Metric"]["MetricName"] == "RunningTaskCount"
    assert [m["ReturnData"] for m in metrics] == [False, False, True]


def test_no_scaling_without_the_field(one_way: Mesh) -> None:
    assert not resources(
        one_way.templates["service:api"], "AWS::ApplicationAutoScaling::ScalableTarget"
    )


def test_service_alarms_are_named_for_the_mesh_and_notify_the_alerts_topic(
    two_way: Mesh, one_way: Mesh
) -> None:
    alarms = resources(two_way.templates["service:user-service"], "AWS::CloudWatch::Alarm")
    names = sorted(a["Properties"]["AlarmName"] for a in alarms.values())
    assert names == [
        "meshlink-shop-user-service-endpoints-connected",
        "meshlink-shop-user-service-no-healthy-targets",
        "meshlink-shop-user-service-tasks-below-desired",
    ]
    for alarm in alarms.values():
        (action,) = alarm["Properties"]["AlarmActions"]
        assert action == {
            "Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:"
            "meshlink-shop-alerts"
        }
    # A service nobody consumes has no NLB: only the task-count alarm.
    web = resources(one_way.templates["service:web"], "AWS::CloudWatch::Alarm")
    (alarm,) = web.values()
    assert alarm["Properties"]["AlarmActions"] == ["arn:aws:sns:us-east-1:400000000001:oncall"]


def test_alerts_email_is_a_topic_in_each_account(two_way: Mesh, one_way: Mesh) -> None:
    topic = _one(two_way.templates["platform:users"], "AWS::SNS::Topic")
    assert topic["TopicName"] == "meshlink-shop-alerts"
    assert topic["Subscription"] == [{"Endpoint": "oncall@example.com", "Protocol": "email"}]
    assert not resources(one_way.templates["platform:front"], "AWS::SNS::Topic")


def test_secrets_are_references_read_only_by_the_services_own_role(two_way: Mesh) -> None:
    template = two_way.templates["service:user-service"]
    (container,) = _one(template, "AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    assert container["Secrets"] == [
        {
            "Name": "API_KEY",
            "ValueFrom": "arn:aws:secretsmanager:us-east-1:111111111111:secret:shop/api-AbCdEf",
        },
        {"Name": "DB_PASSWORD", "ValueFrom": "shop/db-password"},
    ]
    role = _one(template, "AWS::IAM::Role")
    (statement,) = [
        s for s in role["Policies"][0]["PolicyDocument"]["Statement"] if s["Sid"] == "ReadSecrets"
    ]
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert sorted(json.dumps(r, sort_keys=True) for r in statement["Resource"]) == sorted(
        json.dumps(r, sort_keys=True)
        for r in [
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:shop/api-AbCdEf",
            {
                "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
                "${AWS::AccountId}:secret:shop/db-password-??????"
            },
        ]
    )
    task = _one(template, "AWS::ECS::TaskDefinition")
    assert task["ExecutionRoleArn"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    # The account's shared execution role reads no secret at all.
    shared = _one(two_way.templates["platform:users"], "AWS::IAM::Role")
    assert "secretsmanager" not in json.dumps(shared)
