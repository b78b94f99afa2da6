"""When each event of a held stack operation happens (Timeline), on fake events."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from meshlink import durations
from meshlink.localcloud.patches import stack_timing
from meshlink.localcloud.schedule import Slot


@dataclass
class Event:
    logical_resource_id: str
    resource_type: str
    resource_status: str


STACK = "AWS::CloudFormation::Stack"


def test_events_at_their_slots_and_the_stack_events_at_the_ends() -> None:
    slots = {
        ("Vpc", "create"): Slot(0.0, 3.0),
        ("Nat", "create"): Slot(3.0, 103.0),
        ("Old", "delete"): Slot(103.0, 105.0),
    }
    timeline = stack_timing.Timeline("UPDATE_IN_PROGRESS", slots)
    half = durations.seconds("stack.create_overhead") / 2
    assert timeline.total == pytest.approx(105.0 + 2 * half)
    at = timeline.offset
    assert at(Event("s", STACK, "UPDATE_IN_PROGRESS")) == 0.0
    assert at(Event("Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS")) == half
    assert at(Event("Nat", "AWS::EC2::NatGateway", "CREATE_COMPLETE")) == half + 103.0
    assert at(Event("s", STACK, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")) == half + 103.0
    assert at(Event("Old", "AWS::EC2::Subnet", "DELETE_COMPLETE")) == half + 105.0
    assert at(Event("s", STACK, "UPDATE_COMPLETE")) == timeline.total
    assert at(Event("Unknown", "AWS::EC2::VPC", "CREATE_COMPLETE")) == 0.0


def test_steps_come_from_resource_events_once_each() -> None:
    events = [
        Event("s", STACK, "CREATE_IN_PROGRESS"),
        Event("Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS"),
        Event("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE"),
        Event("Old", "AWS::EC2::Subnet", "DELETE_COMPLETE"),
    ]
    steps = stack_timing._steps(events)
    assert [(s.logical_id, s.action) for s in steps] == [("Vpc", "create"), ("Old", "delete")]
