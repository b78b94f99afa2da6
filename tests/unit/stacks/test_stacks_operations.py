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
    container = _one(template, "AWS::ECS::TaskDefinition")["ContainerDefinitions"][0]
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
    container = _one(template, "AWS::ECS::TaskDefinition")["ContainerDefinitions"][0]
    assert container["Secrets"] == [
        {
            "Name": "API_KEY",
            "ValueFrom": "arn:aws:secretsmanager:us-east-1:111111111111:secret:shop/api-AbCdEf",
        },
        {"Name": "DB_PASSWORD", "ValueFrom": "shop/db-password"},
    ]
    role = resources(template, "AWS::IAM::Role")["ExecutionRole"]["Properties"]
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


def test_one_dashboard_per_mesh_in_its_first_account(two_way: Mesh) -> None:
    template = two_way.templates["dashboard:shop"]
    dashboard = _one(template, "AWS::CloudWatch::Dashboard")
    assert dashboard["DashboardName"] == "meshlink-shop"
    body, variables = dashboard["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    titles = [w["properties"]["title"] for w in widgets]
    assert titles == [
        "notification-service → user-service: healthy hosts",
        "notification-service → user-service: processed bytes",
        "user-service → notification-service: healthy hosts",
        "user-service → notification-service: processed bytes",
        "ECS CPU % per service",
        "ECS Memory % per service",
    ]
    healthy = widgets[0]["properties"]["metrics"][0]
    assert healthy[:4] == [
        "AWS/NetworkELB",
        "HealthyHostCount",
        "LoadBalancer",
        "${NlbUserService}",
    ]
    assert healthy[-1] == {"accountId": "111111111111"}
    assert set(variables) == {
        "NlbUserService",
        "TgUserService",
        "NlbNotificationService",
        "TgNotificationService",
    }
    cpu = widgets[4]["properties"]["metrics"]
    assert [m[-1]["label"] for m in cpu] == ["user-service", "notification-service"]
    assert [m[-1]["accountId"] for m in cpu] == ["111111111111", "222222222222"]


def test_tracing_adds_the_xray_daemon_sidecar_and_a_task_role(two_way: Mesh) -> None:
    template = two_way.templates["service:user-service"]
    task = _one(template, "AWS::ECS::TaskDefinition")
    service, daemon = task["ContainerDefinitions"]
    assert daemon["Name"] == "xray-daemon"
    assert daemon["Image"].startswith("public.ecr.aws/xray/aws-xray-daemon:")
    assert daemon["Essential"] is False
    assert daemon["PortMappings"] == [{"ContainerPort": 2000, "Protocol": "udp"}]
    env = {e["Name"]: e["Value"] for e in service["Environment"]}
    assert env["MESHLINK_TRACING"] == "xray"
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:2000"
    assert task["TaskRoleArn"] == {"Fn::GetAtt": ["TaskRole", "Arn"]}
    roles = resources(template, "AWS::IAM::Role")
    statement = roles["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert "xray:PutTraceSegments" in statement["Action"]
    untraced = _one(two_way.templates["service:notification-service"], "AWS::ECS::TaskDefinition")
    assert len(untraced["ContainerDefinitions"]) == 1 and "TaskRoleArn" not in untraced
