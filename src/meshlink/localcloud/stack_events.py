"""DescribeStackEvents' answer, written directly (the bytes moto's serializer writes).

Every deploy polls a stack's events while it waits, and each answer holds every event of
the stack so far (a service stack: a hundred and more after an update or a delete).
moto 5.2.5 serializes them through its generic, model-driven serializer: about 0.5 ms an
event on an idle core, inside the server's one lock, which made DescribeStackEvents the
largest user of the local cloud's time (bench/RESULTS.md, "Makespan"). The events are
flat records of strings and one timestamp: :func:`render` writes the same XML (the
``query`` protocol: the members of the ``StackEvent`` shape in the model's order, a
member without a value left out, an empty one as ``<Name/>``, text escaped as XML
character data) in about 25 µs an event, twenty times faster.
tests/unit/localcloud/test_stack_events.py holds it byte-equal to moto's serializer.

Pure: no moto import; the caller passes the shape's members.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
ISO8601 = "%Y-%m-%dT%H:%M:%SZ"
ISO8601_MICRO = "%Y-%m-%dT%H:%M:%S.%fZ"
_MISSING = object()


@dataclass(frozen=True)
class Member:
    """One member of the StackEvent shape: its XML name, where an event keeps it, its type."""

    name: str
    attributes: tuple[str, ...]  # tried in order, as moto's attribute picker does
    timestamp: bool = False


def members(shape_members: Iterable[tuple[str, str]], snake: Any) -> tuple[Member, ...]:
    """Members from the model's ``(name, type_name)`` pairs; `snake` is botocore's xform_name."""
    return tuple(
        Member(name, (name, snake(name)), type_name == "timestamp")
        for name, type_name in shape_members
    )


def _value(event: Any, member: Member) -> Any:
    for attribute in member.attributes:
        value = getattr(event, attribute, _MISSING)
        if value is not _MISSING:
            return value
    return None


def _timestamp(value: datetime.datetime) -> str:
    return value.strftime(ISO8601_MICRO if value.microsecond > 0 else ISO8601)


def member_xml(event: Any, shape: Sequence[Member]) -> str:
    """One ``<member>`` of the list."""
    parts = ["<member>"]
    for member in shape:
        value = _value(event, member)
        if value is None:
            continue
        text = _timestamp(value) if member.timestamp else escape(str(value))
        parts.append(f"<{member.name}>{text}</{member.name}>" if text else f"<{member.name}/>")
    parts.append("</member>")
    return "".join(parts)


def render(events: Iterable[Any], shape: Sequence[Member], request_id: str) -> str:
    """The whole response body for `events` (newest first, as the API lists them)."""
    listed = "".join(member_xml(event, shape) for event in events)
    inner = f"<StackEvents>{listed}</StackEvents>" if listed else "<StackEvents/>"
    return (
        f'<DescribeStackEventsResponse xmlns="{NAMESPACE}">'
        f"<DescribeStackEventsResult>{inner}</DescribeStackEventsResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</DescribeStackEventsResponse>"
    )
