"""CloudFormation's schedule of one stack operation: dependencies and critical path."""

from __future__ import annotations

from typing import Any

from meshlink.localcloud import schedule
from meshlink.localcloud.schedule import Slot, Step

TEMPLATE: dict[str, Any] = {
    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
    "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}}},
    "Eip": {"Type": "AWS::EC2::EIP"},
    "Nat": {
        "Type": "AWS::EC2::NatGateway",
        "Properties": {
            "SubnetId": {"Ref": "Subnet"},
            "AllocationId": {"Fn::GetAtt": ["Eip", "AllocationId"]},
        },
    },
    "Route": {
        "Type": "AWS::EC2::Route",
        "Properties": {"NatGatewayId": {"Ref": "Nat"}, "RouteTableId": "rtb-1"},
    },
    "Role": {"Type": "AWS::IAM::Role", "DependsOn": "Route"},
    "Log": {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": {"Fn::Sub": "/x/${Vpc}/${Eip.AllocationId}/${AWS::Region}"}},
    },
}
SECONDS = {
    "Vpc": 3.0,
    "Subnet": 2.0,
    "Eip": 1.0,
    "Nat": 100.0,
    "Route": 1.0,
    "Role": 3.0,
    "Log": 1.0,
}


def duration(step: Step) -> float:
    return SECONDS[step.logical_id]


def steps(action: schedule.Action) -> list[Step]:
    return [Step(name, body["Type"], action) for name, body in TEMPLATE.items()]


def test_dependencies_follow_ref_getatt_sub_and_depends_on() -> None:
    graph = schedule.dependencies(TEMPLATE)
    assert graph["Nat"] == {"Subnet", "Eip"}
    assert graph["Route"] == {"Nat"}
    assert graph["Role"] == {"Route"}
    assert graph["Log"] == {"Vpc", "Eip"}  # AWS::Region is no resource
    assert graph["Vpc"] == set()


def test_create_runs_each_resource_once_its_dependencies_are_complete() -> None:
    slots = schedule.plan(steps("create"), schedule.dependencies(TEMPLATE), duration)
    assert slots[("Vpc", "create")] == Slot(0.0, 3.0)
    assert slots[("Eip", "create")] == Slot(0.0, 1.0)
    assert slots[("Subnet", "create")] == Slot(3.0, 5.0)
    assert slots[("Nat", "create")] == Slot(5.0, 105.0)
    assert slots[("Role", "create")] == Slot(106.0, 109.0)
    assert slots[("Log", "create")] == Slot(3.0, 4.0)
    assert schedule.makespan(slots) == 109.0  # the critical path, not the sum (111)


def test_delete_runs_in_reverse_order() -> None:
    slots = schedule.plan(steps("delete"), schedule.dependencies(TEMPLATE), duration)
    assert slots[("Role", "delete")] == Slot(0.0, 3.0)
    assert slots[("Route", "delete")] == Slot(3.0, 4.0)
    assert slots[("Nat", "delete")] == Slot(4.0, 104.0)
    assert slots[("Vpc", "delete")].start == 106.0  # after Subnet (104-106) and Log
    assert schedule.makespan(slots) == 109.0


def test_update_removals_wait_for_the_cleanup_phase() -> None:
    graph = schedule.dependencies(TEMPLATE)
    todo = [
        Step("Route", "AWS::EC2::Route", "update"),
        Step("Log", "AWS::Logs::LogGroup", "delete"),
    ]
    slots = schedule.plan(todo, graph, duration)
    assert slots[("Route", "update")] == Slot(0.0, 1.0)
    assert slots[("Log", "delete")] == Slot(1.0, 2.0)


def test_a_cycle_does_not_hang() -> None:
    cyclic = {"A": {"DependsOn": "B"}, "B": {"DependsOn": "A"}}
    todo = [Step("A", "T", "create"), Step("B", "T", "create")]
    slots = schedule.plan(todo, schedule.dependencies(cyclic), lambda _: 1.0)
    assert set(slots) == {("A", "create"), ("B", "create")}
