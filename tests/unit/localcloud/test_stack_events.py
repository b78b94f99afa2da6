"""DescribeStackEvents written directly is byte for byte what moto's serializer writes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from meshlink.localcloud import stack_events
from meshlink.localcloud.patches import stack_timing

STACK_ID = "arn:aws:cloudformation:us-east-1:111111111111:stack/svc/6662f21c-5c70-4aeb"


def _event(logical_id: str, status: str, **fields: Any) -> Any:
    from moto.cloudformation.models import Event

    event = Event(
        stack_id=STACK_ID,
        stack_name="svc",
        logical_resource_id=logical_id,
        physical_resource_id=fields.pop("physical", ""),
        resource_type=fields.pop("type", "AWS::EC2::SecurityGroup"),
        resource_status=status,
        resource_status_reason=fields.pop("reason", None),
        resource_properties=fields.pop("properties", None),
    )
    for name, value in fields.items():
        setattr(event, name, value)
    return event


def _moto_body(events: list[Any]) -> str:
    """What moto 5.2.5's own serializer answers for `events` (newest first)."""
    from moto.core.responses import ActionContext, ActionResult
    from moto.core.serialize import get_serializer_class
    from moto.core.utils import get_service_model

    service = get_service_model("cloudformation")
    context = ActionContext(
        service,
        service.operation_model("DescribeStackEvents"),
        get_serializer_class("cloudformation", "query"),
        response=None,  # type: ignore[arg-type]
    )
    _, headers, body = ActionResult({"StackEvents": events}).execute_result(context)
    assert headers["Content-Type"] == "text/xml"
    return str(body)


EVENTS = [
    lambda: _event(
        "svc",
        "CREATE_IN_PROGRESS",
        type="AWS::CloudFormation::Stack",
        physical=STACK_ID,
        reason="User Initiated",
    ),
    lambda: _event("Sg", "CREATE_IN_PROGRESS"),  # empty physical id: <PhysicalResourceId/>
    lambda: _event("Sg", "CREATE_COMPLETE", physical="sg-0123"),
    lambda: _event(
        "Lg",
        "CREATE_FAILED",
        type="AWS::Logs::LogGroup",
        reason='Name "a<b&c>" is invalid\n(Service: Logs, Status Code: 400) \u00e9\u2192',
        properties='{"LogGroupName": "a<b&c>"}',
    ),
    lambda: _event(
        "Tg",
        "UPDATE_COMPLETE",
        physical="arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/t/1",
        # a whole second: moto writes no fraction then
        timestamp=datetime.datetime(2026, 12, 3, 7, 46, 6),
        client_request_token="token-1",
    ),
    lambda: _event("Sg", "DELETE_COMPLETE", physical="sg-0123", reason=""),
]


@pytest.mark.parametrize("count", [0, 1, len(EVENTS)])
def test_render_is_what_moto_writes(count: int) -> None:
    events = [make() for make in EVENTS[:count]][::-1]
    shape = stack_timing._stack_event_shape()
    assert stack_events.render(events, shape, "request-id") == _moto_body(events)


def test_every_member_of_the_shape_is_rendered_when_set() -> None:
    shape = stack_timing._stack_event_shape()
    names = [member.name for member in shape]
    assert names[:3] == ["StackId", "EventId", "StackName"]
    event = EVENTS[0]()
    event.hook_type = "Private::Guard::Hook"  # any member an event may carry, in model order
    xml = stack_events.member_xml(event, shape)
    assert xml.index("<ResourceStatusReason>") < xml.index("<HookType>Private::Guard::Hook<")
    assert _moto_body([event]).count(xml) == 1
