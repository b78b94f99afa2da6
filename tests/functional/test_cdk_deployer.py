"""The change-set deployer against the real local cloud, with small hand-written templates."""

from __future__ import annotations

from typing import Any

import pytest

from meshlink.engines.cdk.deployer import Deployer, StackDeployError, stack_tags
from meshlink.engines.cdk.events import StackEvent
from meshlink.engines.cdk.waiting import Pacing
from meshlink.errors import DeployError

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

ACCOUNT = "333333333333"
FAST = Pacing(poll_min=0.01, poll_max=0.2, timeout=120)


def template(subnet_cidr: str = "10.9.0.0/24", *, output: str = "SubnetId") -> dict[str, Any]:
    return {
        "Parameters": {"VpcCidr": {"Type": "String"}},
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": {"Ref": "VpcCidr"}}},
            "Subnet": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": subnet_cidr},
            },
        },
        "Outputs": {output: {"Value": {"Ref": "Subnet"}}, "Cidr": {"Value": {"Ref": "VpcCidr"}}},
    }


PARAMS = {"VpcCidr": "10.9.0.0/16"}


@pytest.fixture(scope="module")
def cfn(local_cloud: Any) -> Any:
    from meshlink.aws.sessions import SessionFactory

    return SessionFactory("local", "us-east-1", local_cloud.endpoint_url).client(
        ACCOUNT, "cloudformation"
    )


@pytest.fixture()
def events() -> list[StackEvent]:
    return []


@pytest.fixture()
def deployer(cfn: Any, events: list[StackEvent]) -> Deployer:
    return Deployer(cfn, on_event=events.append, pacing=FAST)


def test_create_update_unchanged_delete(
    deployer: Deployer, cfn: Any, events: list[StackEvent]
) -> None:
    name = "meshlink-dep-cycle"
    plan = deployer.diff(name, template(), parameters=PARAMS)
    assert plan.change_type == "CREATE"
    assert sorted((c.action, c.logical_id) for c in plan.changes) == [
        ("Add", "Subnet"),
        ("Add", "Vpc"),
    ]
    assert deployer.status(name) is None

    created = deployer.deploy(name, template(), parameters=PARAMS, tags=stack_tags("dep", "x:y"))
    assert created.outcome == "created"
    assert created.outputs["Cidr"] == "10.9.0.0/16"
    assert created.outputs["SubnetId"].startswith("subnet-")
    tags = {t["Key"]: t["Value"] for t in cfn.describe_stacks(StackName=name)["Stacks"][0]["Tags"]}
    assert tags == {"meshlink:mesh": "dep", "meshlink:node": "x:y"}
    assert [e.status for e in events if e.is_stack][-1] == "CREATE_COMPLETE"
    assert any(e.logical_id == "Subnet" and e.status == "CREATE_COMPLETE" for e in events)

    assert deployer.diff(name, template(), parameters=PARAMS).unchanged
    same = deployer.deploy(name, template(), parameters=PARAMS, tags=stack_tags("dep", "x:y"))
    assert same.outcome == "unchanged"
    assert same.outputs == created.outputs

    renamed = deployer.deploy(name, template(output="TheSubnet"), parameters=PARAMS)
    assert renamed.outcome == "updated"
    assert "TheSubnet" in renamed.outputs

    assert deployer.delete(name).deleted
    assert deployer.status(name) is None
    assert not deployer.delete(name).deleted
    with pytest.raises(DeployError, match="does not exist"):
        deployer.outputs(name)


def test_failed_create_names_resource_then_recreates(
    deployer: Deployer, events: list[StackEvent]
) -> None:
    name = "meshlink-dep-broken"
    # A subnet outside its VPC: EC2 refuses it while the stack is being created.
    with pytest.raises(StackDeployError) as caught:
        deployer.deploy(name, template("192.168.0.0/24"), parameters=PARAMS)
    error = caught.value
    assert (error.logical_id, error.resource_type) == ("Subnet", "AWS::EC2::Subnet")
    assert "192.168.0.0/24" in error.reason
    assert "Subnet (AWS::EC2::Subnet) failed" in error.message
    assert any(e.failed and e.logical_id == "Subnet" for e in events)
    assert deployer.status(name) == "ROLLBACK_COMPLETE"

    plan = deployer.diff(name, template(), parameters=PARAMS)
    assert plan.recreate and plan.change_type == "CREATE"
    assert deployer.status(name) == "ROLLBACK_COMPLETE"  # planning changed nothing

    fixed = deployer.deploy(name, template(), parameters=PARAMS)
    assert fixed.outcome == "created"
    assert deployer.status(name) == "CREATE_COMPLETE"
    deployer.delete(name)


def test_bad_parameter_is_refused_and_leaves_nothing(deployer: Deployer) -> None:
    name = "meshlink-dep-param"
    with pytest.raises(StackDeployError) as caught:
        deployer.deploy(name, template(), parameters={**PARAMS, "NoSuchParameter": "x"})
    assert "NoSuchParameter" in caught.value.reason
    assert deployer.status(name) is None


def test_leftover_review_in_progress_is_replaced(deployer: Deployer, cfn: Any) -> None:
    name = "meshlink-dep-review"
    cfn.create_change_set(
        StackName=name,
        ChangeSetName="abandoned",
        ChangeSetType="CREATE",
        TemplateBody='{"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", '
        '"Properties": {"CidrBlock": "10.8.0.0/16"}}}}',
    )
    assert deployer.status(name) == "REVIEW_IN_PROGRESS"
    result = deployer.deploy(name, template(), parameters=PARAMS)
    assert result.outcome == "created"
    assert [s["StackStatus"] for s in cfn.describe_stacks(StackName=name)["Stacks"]] == [
        "CREATE_COMPLETE"
    ]
    deployer.delete(name)
