"""What a stack update changes on the local cloud: replacements, their reasons, cascades."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from meshlink.localcloud.patches.stack_updates import plan_update

TG = "AWS::ElasticLoadBalancingV2::TargetGroup"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
PERMISSIONS = "AWS::EC2::VPCEndpointServicePermissions"


def resources(port: int, principals: list[str]) -> dict[str, Any]:
    return {
        "Tg": {"Type": TG, "Properties": {"Port": port, "VpcId": {"Ref": "VpcId"}}},
        "Listener": {
            "Type": LISTENER,
            "Properties": {"Port": port, "DefaultActions": [{"TargetGroupArn": {"Ref": "Tg"}}]},
        },
        "Perms": {
            "Type": PERMISSIONS,
            "Properties": {"ServiceId": "svc", "AllowedPrincipals": principals},
        },
    }


def stack(port: int, principals: list[str], vpc: str = "vpc-1") -> Any:
    return SimpleNamespace(
        _resource_json_map=resources(port, principals), input_parameters={"VpcId": vpc}
    )


def test_a_port_change_replaces_the_target_group_and_updates_its_listener() -> None:
    old = stack(8080, ["a"])
    plan = plan_update(old, {"Resources": resources(8081, ["a"])}, {"VpcId": "vpc-1"}, bool)
    assert list(plan.modify) == ["Tg", "Listener"]  # the replacement first
    tg, listener = plan.modify["Tg"], plan.modify["Listener"]
    assert tg.replace and [(p.name, p.recreation) for p in tg.properties] == [("Port", "Always")]
    assert not listener.replace
    assert [(p.name, p.source) for p in listener.properties] == [
        ("DefaultActions", "ResourceReference"),
        ("Port", "DirectModification"),
    ]
    detail = tg.properties[0].detail()
    assert detail["Target"]["BeforeValue"] == "8080" and detail["Target"]["AfterValue"] == "8081"


def test_principals_change_in_place_and_a_parameter_change_is_seen() -> None:
    old = stack(8080, ["a", "b"])
    plan = plan_update(old, {"Resources": resources(8080, ["a", "c"])}, {"VpcId": "vpc-1"}, bool)
    assert list(plan.modify) == ["Perms"] and not plan.modify["Perms"].replace
    (change,) = plan.modify["Perms"].properties
    assert (change.before, change.after) == (["a", "b"], ["a", "c"])

    plan = plan_update(old, {"Resources": resources(8080, ["a", "b"])}, {"VpcId": "vpc-2"}, bool)
    (vpc,) = plan.modify["Tg"].properties
    assert (vpc.name, vpc.source, vpc.before, vpc.after) == (
        "VpcId",
        "ParameterReference",
        "vpc-1",
        "vpc-2",
    )
    assert plan.replaced == {"Tg"} and "Listener" in plan.modify


def test_what_moto_cannot_update_in_place_is_recreated_not_replaced() -> None:
    old = stack(8080, ["a"])
    plan = plan_update(
        old, {"Resources": resources(8080, ["b"])}, {"VpcId": "vpc-1"}, lambda t: t != PERMISSIONS
    )
    # AWS updates it in place (no Replacement); the local cloud deletes and creates it.
    assert plan.replaced == set() and plan.modify["Perms"].recreate
    assert plan_update(old, {"Resources": resources(8080, ["a"])}, None, bool).modify == {}


def test_removed_resources_go_dependants_first() -> None:
    # The group is declared first, as CDK does; its rule must still go before it, or
    # revoking the rule later finds its source group gone and the rule stays (AWS: order).
    old = SimpleNamespace(
        _resource_json_map={
            "NlbSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
            "Rule": {
                "Type": "AWS::EC2::SecurityGroupIngress",
                "Properties": {"SourceSecurityGroupId": {"Fn::GetAtt": ["NlbSg", "GroupId"]}},
            },
            "Kept": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
        },
        input_parameters={},
    )
    template = {"Resources": {"Kept": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}}}}
    plan = plan_update(old, template, {}, bool)
    assert plan.remove == ["Rule", "NlbSg"]
