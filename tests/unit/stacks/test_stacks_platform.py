"""platform[account]: cluster, log group, least-privilege execution role."""

from __future__ import annotations

from aws_cdk.assertions import Match

from meshlink.stacks.outputs import PlatformOutputs
from meshlink.stacks.platform import LOG_RETENTION_DAYS, ecr_repository_arns, probe_family
from tests.unit.stacks.stacks_helpers import ECR_IMAGE, Mesh, resources


def test_cluster_has_container_insights(two_way: Mesh) -> None:
    two_way.template("platform:users").has_resource_properties(
        "AWS::ECS::Cluster",
        {
            "ClusterName": "meshlink-shop",
            "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}],
        },
    )


def test_log_group_has_retention_and_goes_with_the_stack(two_way: Mesh) -> None:
    two_way.template("platform:notify").has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"LogGroupName": "/meshlink/shop", "RetentionInDays": LOG_RETENTION_DAYS},
            "DeletionPolicy": "Delete",
        },
    )


def test_execution_role_trusts_only_ecs_tasks_of_its_account(two_way: Mesh) -> None:
    two_way.template("platform:users").has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}},
                    }
                ]
            },
            "ManagedPolicyArns": Match.absent(),
        },
    )


def test_public_images_need_no_ecr_permissions(two_way: Mesh) -> None:
    (role,) = resources(two_way.templates["platform:users"], "AWS::IAM::Role").values()
    (policy,) = role["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    assert [s["Sid"] for s in statements] == ["ShipLogs"]
    assert statements[0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    # The account's log group (verify's probe) and the log group of each of its services.
    assert statements[0]["Resource"] == [
        {"Fn::GetAtt": ["LogGroup", "Arn"]},
        {
            "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
            "log-group:/meshlink/shop/user-service:*"
        },
    ]


def test_private_ecr_images_are_pulled_from_their_repositories_only(full_mesh: Mesh) -> None:
    (role,) = resources(full_mesh.templates["platform:money"], "AWS::IAM::Role").values()
    statements = {
        s["Sid"]: s for s in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    }
    assert set(statements) == {"ShipLogs", "EcrLogin", "PullImages"}
    assert statements["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"
    assert statements["PullImages"]["Resource"] == [
        {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":ecr:us-east-1:333333333333:repository/acme/payments",
                ],
            ]
        }
    ]
    # The other accounts run public images: no ECR statement at all.
    (other,) = resources(full_mesh.templates["platform:retail"], "AWS::IAM::Role").values()
    assert len(other["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]) == 1


def test_probe_task_definition_is_the_probe_image_not_a_services(two_way: Mesh) -> None:
    """verify's probe runs its own task definition: the probe image, no task role."""
    template = two_way.templates["platform:users"]
    (definition,) = resources(template, "AWS::ECS::TaskDefinition").values()
    props = definition["Properties"]
    assert props["Family"] == probe_family("shop") == "shop_probe"
    assert props["RequiresCompatibilities"] == ["FARGATE"] and props["NetworkMode"] == "awsvpc"
    assert "TaskRoleArn" not in props  # the probe calls no AWS API
    assert props["ExecutionRoleArn"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    (container,) = props["ContainerDefinitions"]
    assert container["Name"] == "probe"
    assert container["Image"] == two_way.topology.probe_image
    assert container["Image"] == "ghcr.io/meshlink/meshlink-service:0.1.0"  # the bundled one
    assert container["Command"] == ["probe-all"]
    assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "probe"
    assert template["Outputs"][PlatformOutputs.PROBE_TASK_DEFINITION_ARN]["Value"] == {
        "Ref": "ProbeTaskDefinition"
    }


def test_ecr_repository_arns_parses_only_private_ecr_images() -> None:
    arns = ecr_repository_arns(
        [ECR_IMAGE, ECR_IMAGE, "public.ecr.aws/acme/x:1", "ghcr.io/a/b:1", "nginx"]
    )
    assert len(arns) == 1
    assert arns[0].endswith(":ecr:us-east-1:333333333333:repository/acme/payments")


def test_outputs_and_no_parameters(two_way: Mesh) -> None:
    template = two_way.templates["platform:users"]
    assert set(template["Outputs"]) == {
        PlatformOutputs.CLUSTER_NAME,
        PlatformOutputs.CLUSTER_ARN,
        PlatformOutputs.LOG_GROUP_NAME,
        PlatformOutputs.LOG_GROUP_ARN,
        PlatformOutputs.EXECUTION_ROLE_ARN,
        PlatformOutputs.PROBE_TASK_DEFINITION_ARN,
    }
    assert "Parameters" not in template
