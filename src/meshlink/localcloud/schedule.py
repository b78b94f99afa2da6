"""When CloudFormation would start and finish each resource of one stack operation.

Pure logic (no moto): the dependency graph of a template (``Ref``, ``Fn::GetAtt``,
``DependsOn``, ``Fn::Sub``), and the earliest schedule over it, as CloudFormation runs a
stack: every resource starts as soon as everything it depends on is complete
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html),
deletes run in the reverse order, and an update's removals run in the cleanup phase after
every create and update
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Action = Literal["create", "update", "delete"]
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")


@dataclass(frozen=True)
class Step:
    """One resource touched by the operation."""

    logical_id: str
    resource_type: str
    action: Action


@dataclass(frozen=True)
class Slot:
    """When a step starts and ends, in seconds from the operation's start."""

    start: float
    end: float


def _ref(inner: Any) -> set[str]:
    return {inner} if isinstance(inner, str) else set()


def _get_att(inner: Any) -> set[str]:
    target = inner[0] if isinstance(inner, list) and inner else inner
    return {target.split(".", 1)[0]} if isinstance(target, str) else set()


def _sub(inner: Any) -> set[str]:
    text = inner[0] if isinstance(inner, list) and inner else inner
    found = {m.group(1) for m in _SUB_NAME.finditer(text)} if isinstance(text, str) else set()
    if isinstance(inner, list) and len(inner) > 1:
        found |= references(inner[1])
    return found


# Intrinsic function -> the logical ids its argument names.
_INTRINSICS: dict[str, Callable[[Any], set[str]]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
}


def references(value: Any) -> set[str]:
    """Every logical id `value` (a resource's JSON) names through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, inner in value.items():
            named = _INTRINSICS.get(key)
            found |= named(inner) if named is not None else references(inner)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def dependencies(resources: Mapping[str, Any]) -> dict[str, set[str]]:
    """Logical id -> the other resources of the template it depends on."""
    graph: dict[str, set[str]] = {}
    for logical_id, body in resources.items():
        body = body if isinstance(body, Mapping) else {}
        named = references(body.get("Properties") or {}) | references(body.get("Condition"))
        depends_on = body.get("DependsOn") or []
        named |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
        graph[logical_id] = {n for n in named if n in resources and n != logical_id}
    return graph


def plan(
    steps: Iterable[Step],
    graph: Mapping[str, set[str]],
    duration: Callable[[Step], float],
) -> dict[tuple[str, Action], Slot]:
    """The earliest schedule of `steps` over `graph` (the new template's for creates and
    updates, the old one's for deletes)."""
    todo = list(dict.fromkeys(steps))
    forward = [s for s in todo if s.action != "delete"]
    removals = [s for s in todo if s.action == "delete"]
    slots: dict[tuple[str, Action], Slot] = {}
    _schedule(forward, graph, duration, 0.0, slots, reverse=False)
    begin = max((slot.end for slot in slots.values()), default=0.0)
    _schedule(removals, graph, duration, begin, slots, reverse=True)
    return slots


def _schedule(
    steps: list[Step],
    graph: Mapping[str, set[str]],
    duration: Callable[[Step], float],
    begin: float,
    slots: dict[tuple[str, Action], Slot],
    *,
    reverse: bool,
) -> None:
    by_id = {s.logical_id: s for s in steps}
    # Deletes wait for their dependants; creates and updates for their dependencies.
    before: dict[str, set[str]] = {
        s.logical_id: (
            {o for o, deps in graph.items() if s.logical_id in deps}
            if reverse
            else set(graph.get(s.logical_id, ()))
        )
        & by_id.keys()
        for s in steps
    }
    ends: dict[str, float] = {}
    visiting: set[str] = set()

    def end_of(logical_id: str) -> float:
        if logical_id in ends:
            return ends[logical_id]
        if logical_id in visiting:  # a cycle CloudFormation would refuse: do not loop
            return begin
        visiting.add(logical_id)
        start = max((end_of(d) for d in before[logical_id]), default=begin)
        visiting.discard(logical_id)
        step = by_id[logical_id]
        ends[logical_id] = start + max(duration(step), 0.0)
        slots[(logical_id, step.action)] = Slot(start, ends[logical_id])
        return ends[logical_id]

    for step in steps:
        end_of(step.logical_id)


def makespan(slots: Mapping[Any, Slot]) -> float:
    """When the last step ends (0 for none)."""
    return max((slot.end for slot in slots.values()), default=0.0)
