"""Stack updates on the local cloud as on AWS: replacements, change-set details, rollback."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from tests.functional.test_local_privatelink import deploy, network, outputs

pytestmark = [pytest.mark.localcloud]

ACCOUNT = "430000000003"


def balancer(port: int, *, target_group_name: str | None = None) -> dict[str, Any]:
    """An NLB with a listener forwarding `port` to a target group."""
    group: dict[str, Any] = {
        "Port": port,
        "Protocol": "TCP",
        "TargetType": "ip",
        "VpcId": {"Ref": "VpcId"},
    }
    if target_group_name:
        group["Name"] = target_group_name
    return {
        "Parameters": {
            "VpcId": {"Type": "AWS::EC2::VPC::Id"},
            "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>"},
        },
        "Resources": {
            "Nlb": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {
                    "Type": "network",
                    "Scheme": "internal",
                    "Subnets": {"Ref": "SubnetIds"},
                },
            },
            "Tg": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": group},
            "Listener": {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Properties": {
                    "LoadBalancerArn": {"Ref": "Nlb"},
                    "Port": port,
                    "Protocol": "TCP",
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Tg"}}],
                },
            },
        },
        "Outputs": {"TargetGroupArn": {"Value": {"Ref": "Tg"}}},
    }


@pytest.fixture(scope="module")
def sessions(local_cloud: Any) -> SessionFactory:
    return SessionFactory("local", "us-east-1", local_cloud.endpoint_url)


@pytest.fixture(scope="module")
def parameters(sessions: SessionFactory) -> dict[str, str]:
    net = network(sessions, ACCOUNT, "10.43.0.0/16")
    return {"VpcId": net["vpc"], "SubnetIds": ",".join(sorted(net["subnets"].values())[:2])}


def change_and_execute(
    sessions: SessionFactory, name: str, template: dict[str, Any], parameters: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Create, describe and execute an UPDATE change set; (its changes, the settled stack)."""
    cfn = sessions.client(ACCOUNT, "cloudformation")
    created = cfn.create_change_set(
        StackName=name,
        ChangeSetName=f"u-{uuid.uuid4().hex[:8]}",
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    described = cfn.describe_change_set(ChangeSetName=created["Id"], IncludePropertyValues=True)
    cfn.execute_change_set(ChangeSetName=created["Id"])
    for _ in range(100):
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return [c["ResourceChange"] for c in described["Changes"]], stack
        time.sleep(0.1)
    raise AssertionError(f"{name} still in progress")


def listener_target(sessions: SessionFactory, stack: str) -> tuple[str, int]:
    cfn = sessions.client(ACCOUNT, "cloudformation")
    elb = sessions.client(ACCOUNT, "elbv2")
    resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    nlb = next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "Nlb")
    (listener,) = elb.describe_listeners(LoadBalancerArn=nlb)["Listeners"]
    return listener["DefaultActions"][0]["TargetGroupArn"], listener["Port"]


def test_a_port_change_replaces_the_target_group_before_deleting_the_old_one(
    sessions: SessionFactory, parameters: dict[str, str]
) -> None:
    elb = sessions.client(ACCOUNT, "elbv2")
    stack = deploy(sessions, ACCOUNT, "tg-replace", balancer(8080), parameters)
    old = outputs(stack)["TargetGroupArn"]

    changes, stack = change_and_execute(sessions, "tg-replace", balancer(8081), parameters)

    by_id = {c["LogicalResourceId"]: c for c in changes}
    assert by_id["Tg"]["Replacement"] == "True"
    (port,) = by_id["Tg"]["Details"]
    assert port["Target"]["Name"] == "Port"
    assert port["Target"]["RequiresRecreation"] == "Always"
    assert (port["Target"]["BeforeValue"], port["Target"]["AfterValue"]) == ("8080", "8081")
    assert by_id["Listener"]["Replacement"] == "False"
    assert {d["Target"]["Name"] for d in by_id["Listener"]["Details"]} == {
        "Port",
        "DefaultActions",
    }
    assert "Nlb" not in by_id
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    new = outputs(stack)["TargetGroupArn"]
    assert new != old
    assert listener_target(sessions, "tg-replace") == (new, 8081)
    assert [g["TargetGroupArn"] for g in elb.describe_target_groups()["TargetGroups"]].count(
        old
    ) == 0


def test_a_failed_update_rolls_back_to_the_previous_resources(
    sessions: SessionFactory, parameters: dict[str, str]
) -> None:
    cfn = sessions.client(ACCOUNT, "cloudformation")
    elb = sessions.client(ACCOUNT, "elbv2")
    named = balancer(8080, target_group_name="rollback-tg")
    stack = deploy(sessions, ACCOUNT, "tg-rollback", named, parameters)
    old = outputs(stack)["TargetGroupArn"]

    # A custom-named resource cannot be replaced: the update fails, as on AWS.
    changes, stack = change_and_execute(
        sessions, "tg-rollback", balancer(8081, target_group_name="rollback-tg"), parameters
    )

    assert {c["LogicalResourceId"]: c["Replacement"] for c in changes}["Tg"] == "True"
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert outputs(stack)["TargetGroupArn"] == old
    assert listener_target(sessions, "tg-rollback") == (old, 8080)
    (group,) = elb.describe_target_groups(TargetGroupArns=[old])["TargetGroups"]
    assert group["Port"] == 8080
    events = cfn.describe_stack_events(StackName="tg-rollback")["StackEvents"]
    statuses = [e["ResourceStatus"] for e in reversed(events)]
    assert statuses[-1] == "UPDATE_ROLLBACK_COMPLETE"
    assert "UPDATE_ROLLBACK_IN_PROGRESS" in statuses
    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
    assert "custom-named resource requires replacing" in failed[0]["ResourceStatusReason"]

    # Rolled back means the previous template: the same change is planned again.
    changes, stack = change_and_execute(sessions, "tg-rollback", balancer(8081), parameters)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert listener_target(sessions, "tg-rollback")[1] == 8081
