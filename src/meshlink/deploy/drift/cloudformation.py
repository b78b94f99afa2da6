"""On AWS, CloudFormation's own drift detection: resources of a stack deleted by hand.

DetectStackDrift compares every resource with its template (moto has no such API, so
the local cloud relies on the other detectors alone). The detectors in detect.py already
name modified properties in terms people know (a principal, a rule, a count); what only
CloudFormation sees is a resource of any other type deleted behind its back, which
nothing but a new stack brings back.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-drift.html
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from meshlink.deadlines import pauses
from meshlink.deploy.drift.model import Finding
from meshlink.graph.planner import plan_graph
from meshlink.verify.context import VerifyContext

DETECTION_TIMEOUT = 120.0


def deleted_resources(
    ctx: VerifyContext,
    deployed: frozenset[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Finding]:
    """A `recreate` finding per stack node with a resource CloudFormation finds DELETED."""
    mesh = ctx.topology.name
    for node in plan_graph(ctx.topology):
        name = node.stack_name(mesh)
        if node.id not in deployed or name is None or node.kind == "network":
            continue
        cloudformation = ctx.client(node.account, "cloudformation")
        for logical_id, resource_type in _deleted(cloudformation, name, sleep):
            yield Finding(node.id, "recreate", f"{resource_type} {logical_id} deleted", "recreate")


def _deleted(
    cloudformation: Any, stack: str, sleep: Callable[[float], None]
) -> list[tuple[str, str]]:
    detection = cloudformation.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    deadline = time.monotonic() + DETECTION_TIMEOUT
    waits = pauses(1.0, 5.0, growth=2)
    while True:
        status = cloudformation.describe_stack_drift_detection_status(
            StackDriftDetectionId=detection
        )
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        if time.monotonic() > deadline:
            return []  # no answer in time: the other detectors still spoke
        sleep(next(waits))
    found: list[tuple[str, str]] = []
    request: dict[str, Any] = {
        "StackName": stack,
        "StackResourceDriftStatusFilters": ["DELETED"],
    }
    while True:
        page = cloudformation.describe_stack_resource_drifts(**request)
        for drift in page.get("StackResourceDrifts", []):
            found.append((str(drift["LogicalResourceId"]), str(drift["ResourceType"])))
        token = page.get("NextToken")
        if not token:
            return found
        request["NextToken"] = token
