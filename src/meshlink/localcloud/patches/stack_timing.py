"""CloudFormation under ``--timing aws``: a stack stays ``*_IN_PROGRESS`` for its critical path.

moto runs a stack operation at once. When it has succeeded, :func:`hold` schedules the
resources it touched over the template's dependency graph (:mod:`meshlink.localcloud.
schedule`, each resource's AWS duration from :func:`meshlink.durations.resource_duration`
times the scale), moves each resource event to its scheduled time, and holds the stack:

* ``DescribeStacks`` answers the operation's ``*_IN_PROGRESS`` status until the schedule
  ends (by name too, for a stack being deleted, as on AWS);
* ``DescribeStackEvents`` shows only the events whose time has come;
* each timed resource (NAT gateway, endpoint, load balancer) becomes ready when its
  ``*_COMPLETE`` event is due (:func:`meshlink.localcloud.patches.lifecycle.settle`).

A failed operation (rollback) is not held: its failure shows at once.

Whatever the timing, DescribeStackEvents' answer is written by
:func:`meshlink.localcloud.stack_events.render` (the same bytes as moto's serializer,
twenty times faster: deploys poll it while they wait).
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Any

from meshlink import durations
from meshlink.localcloud import clock, schedule, stack_events
from meshlink.localcloud.patches import lifecycle
from meshlink.localcloud.patches.registry import replace, resolve, step, wrap

HOLD = "_meshlink_hold"
STACK_TYPE = "AWS::CloudFormation::Stack"
_ACTIONS: dict[str, schedule.Action] = {
    "CREATE": "create",
    "UPDATE": "update",
    "DELETE": "delete",
}


@dataclass(frozen=True)
class Hold:
    """The stack reads `status` until `until` (monotonic)."""

    status: str
    until: float


class HeldStatus:
    """``Stack.status``: the raw value in the instance, ``*_IN_PROGRESS`` while held."""

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        hold = obj.__dict__.get(HOLD)
        if isinstance(hold, Hold) and clock.now() < hold.until:
            return hold.status
        return obj.__dict__.get("status")

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__["status"] = value


def held(stack: Any) -> bool:
    hold = stack.__dict__.get(HOLD)
    return isinstance(hold, Hold) and clock.now() < hold.until


def _steps(events: list[Any]) -> list[schedule.Step]:
    steps = []
    for event in events:
        if event.resource_type == STACK_TYPE:
            continue
        action = _ACTIONS.get(str(event.resource_status).split("_", 1)[0])
        if action is not None:
            steps.append(schedule.Step(event.logical_resource_id, event.resource_type, action))
    return list(dict.fromkeys(steps))


def _properties(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    body = resources.get(logical_id)
    props = body.get("Properties") if isinstance(body, dict) else None
    return props if isinstance(props, dict) else {}


def hold(stack: Any, first_event: int, status: str, old_resources: dict[str, Any]) -> None:
    """Spread the events from `first_event` over the schedule; `stack` reads `status`
    until it ends. `old_resources`: the template's resources before the operation."""
    timing = clock.current()
    if not timing.aws:
        return
    events = list(stack.events[first_event:])
    new_resources = {} if status.startswith("DELETE") else _resources(stack.template_dict)

    def duration(step: schedule.Step) -> float:
        resources = old_resources if step.action == "delete" else new_resources
        props = _properties(resources, step.logical_id)
        return durations.resource_duration(step.resource_type, step.action, props)

    graph = schedule.dependencies({**old_resources, **new_resources})
    timeline = Timeline(status, schedule.plan(_steps(events), graph, duration))
    base_wall = events[0].timestamp if events else _utcnow()
    base_mono = clock.now()
    timed = sorted(((timeline.offset(e), i, e) for i, e in enumerate(events)), key=lambda t: t[:2])
    for seconds, _, event in timed:
        event.timestamp = base_wall + datetime.timedelta(seconds=seconds * timing.scale)
    stack.events[first_event:] = [event for _, _, event in timed]
    parsed = getattr(stack.resource_map, "_parsed_resources", {})
    for (logical_id, action), slot in timeline.slots.items():
        if action != "delete":
            ready = base_mono + (timeline.overhead + slot.end) * timing.scale
            lifecycle.settle(parsed.get(logical_id), ready)
    stack.__dict__[HOLD] = Hold(status, base_mono + timeline.total * timing.scale)


def _resources(template: Any) -> dict[str, Any]:
    found = (template or {}).get("Resources") if isinstance(template, dict) else None
    return dict(found) if isinstance(found, dict) else {}


class Timeline:
    """An operation's schedule: when each of its events happens (seconds, unscaled)."""

    def __init__(self, status: str, slots: dict[tuple[str, schedule.Action], schedule.Slot]):
        self.status = status
        self.slots = slots
        self.overhead = durations.seconds("stack.create_overhead") / 2
        self.total = schedule.makespan(slots) + 2 * self.overhead
        forward = [s.end for (_, action), s in slots.items() if action != "delete"]
        self.cleanup = self.overhead + max(forward, default=0.0)

    def offset(self, event: Any) -> float:
        kind = str(event.resource_status)
        if event.resource_type == STACK_TYPE:
            if kind.endswith("CLEANUP_IN_PROGRESS"):
                return self.cleanup
            return 0.0 if kind == self.status else self.total
        action = _ACTIONS.get(kind.split("_", 1)[0], "create")
        slot = self.slots.get((event.logical_resource_id, action))
        if slot is None:
            return 0.0
        return self.overhead + (slot.start if kind.endswith("_IN_PROGRESS") else slot.end)


_MODELS = "moto.cloudformation.models"


def _utcnow() -> datetime.datetime:
    from moto.core.utils import utcnow

    return utcnow()


@step
def _held_status() -> None:
    resolve(f"{_MODELS}:Stack").status = HeldStatus()


@wrap(f"{_MODELS}:CloudFormationBackend", "describe_stack_events")
def _events_so_far(original: Any, self: Any, stack_name: str) -> list[Any]:
    events = list(original(self, stack_name))
    if not clock.current().aws:
        return events
    now = _utcnow()
    return [e for e in events if e.timestamp <= now]


@functools.cache
def _stack_event_shape() -> tuple[stack_events.Member, ...]:
    from botocore import xform_name
    from moto.core.utils import get_service_model

    shape: Any = get_service_model("cloudformation").shape_for("StackEvent")
    return stack_events.members(
        ((name, member.type_name) for name, member in shape.members.items()), xform_name
    )


@replace("moto.cloudformation.responses:CloudFormationResponse", "describe_stack_events")
def _describe_stack_events(self: Any) -> Any:
    from moto import settings
    from moto.core.responses import ActionResult
    from moto.core.utils import get_service_model

    events = self.cloudformation_backend.describe_stack_events(self._get_param("StackName"))
    protocol = self.determine_response_protocol(get_service_model("cloudformation"))
    if protocol != "query" or settings.PRETTIFY_RESPONSES:  # moto's serializer, as before
        return ActionResult({"StackEvents": events[::-1]})
    # "request-id" is the placeholder moto's serializer writes and the response replaces.
    body = stack_events.render(reversed(events), _stack_event_shape(), "request-id")
    return 200, {"Content-Type": "text/xml"}, body


@wrap(f"{_MODELS}:CloudFormationBackend", "describe_stacks")
def _deleting_by_name(original: Any, self: Any, name_or_stack_id: str) -> list[Any]:
    try:
        return list(original(self, name_or_stack_id))
    except Exception:
        deleting = [
            s for s in self.deleted_stacks.values() if s.name == name_or_stack_id and held(s)
        ]
        if not deleting:
            raise
        return deleting[-1:]
