"""What plan knows of a node's outputs after up: kept, literal, or changing."""

from __future__ import annotations

import pytest

from meshlink.deploy.handlers.model import NodePlan
from meshlink.deploy.handlers.outlook import (
    Outlook,
    UnknownUntilApplied,
    list_delta,
    stack_outputs_after,
    touched_by,
)
from meshlink.engines.cdk.events import ResourceChange

TEMPLATE = {
    "Parameters": {"VpcId": {}, "Zones": {}},
    "Resources": {
        "TargetGroup": {"Properties": {"VpcId": {"Ref": "VpcId"}}},
        "Listener": {"Properties": {"Group": {"Ref": "TargetGroup"}}},
        "Service": {"Properties": {}},
    },
    "Outputs": {
        "TargetGroupArn": {"Value": {"Ref": "TargetGroup"}},
        "ServiceId": {"Value": {"Ref": "Service"}},
        "Port": {"Value": "8082"},
        "ZoneIds": {"Value": {"Ref": "Zones"}},
    },
}
LIVE = {"TargetGroupArn": "arn:tg-1", "ServiceId": "svc-1", "Port": "8081", "ZoneIds": "z1"}


def test_a_replaced_resource_changes_its_outputs_a_literal_is_known() -> None:
    replaced = ResourceChange("Modify", "TargetGroup", "T", "True")
    known, changing = stack_outputs_after(TEMPLATE, LIVE, [replaced], set())
    assert known == {"ServiceId": "svc-1", "Port": "8082", "ZoneIds": "z1"}
    assert changing == {"TargetGroupArn"}
    in_place = ResourceChange("Modify", "TargetGroup", "T", "False")
    known, changing = stack_outputs_after(TEMPLATE, LIVE, [in_place], {"Zones"})
    assert changing == {"ZoneIds"} and known["TargetGroupArn"] == "arn:tg-1"


def test_what_a_parameter_reaches() -> None:
    assert touched_by(TEMPLATE, {"VpcId"}) == {"VpcId", "TargetGroup", "Listener"}


def test_a_downstream_read_of_a_changing_output_raises() -> None:
    outlook = Outlook()
    outlook.record(NodePlan("network:a", "create"))
    outlook.record(
        NodePlan("edge:s", "replace", outputs={"Port": "8082"}, changing=frozenset({"Tg"}))
    )
    assert outlook.outputs_of("other") is None  # not planned in this run: the journal says
    with pytest.raises(UnknownUntilApplied) as new:
        outlook.outputs_of("network:a")
    assert new.value.message == "the outputs of network:a change (network:a: create)"
    edge = outlook.outputs_of("edge:s")
    assert edge is not None and edge["Port"] == "8082" and "Tg" in edge
    with pytest.raises(UnknownUntilApplied) as changing:
        edge["Tg"]
    assert (changing.value.node, changing.value.key) == ("edge:s", "Tg")


def test_list_delta_of_principals() -> None:
    assert list_delta('["a", "b"]', '["b", "c"]') == (["c"], ["a"])
    assert list_delta("8081", "8082") == ([], [])
    assert list_delta(None, '["a"]') == (["a"], [])
