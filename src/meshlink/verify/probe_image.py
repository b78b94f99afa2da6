"""Which task definition a probe task runs: the account's, or one revision for `--probe-image`.

`up` deploys a probe task definition per account (platform stack, topology
`probe_image`). `meshlink verify --probe-image IMAGE` registers a revision of that
family with IMAGE for the run (RunTask cannot override an image) and deregisters it
when the run ends, so nothing outlives the run but an INACTIVE revision.
"""

from __future__ import annotations

from typing import Any

from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import PlatformOutputs
from meshlink.verify.context import VerifyContext

# What RegisterTaskDefinition takes back from DescribeTaskDefinition's answer.
_REGISTER_KEYS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "runtimePlatform",
    "ephemeralStorage",
)


def recorded_definition(ctx: VerifyContext, account: str) -> str | None:
    """The probe task definition `up` recorded for `account` (platform output)."""
    platform = ctx.outputs(node_id("platform", account))
    value = platform.get(PlatformOutputs.PROBE_TASK_DEFINITION_ARN)
    return str(value) if value else None


def probe_definition(ctx: VerifyContext, account: str) -> str | None:
    """The task definition ARN a probe task in `account` runs (None: none recorded)."""
    recorded = recorded_definition(ctx, account)
    image = ctx.options.probe_image
    if recorded is None or image is None:
        return recorded
    return ctx.memo(("probe-definition", account), lambda: _register(ctx, account, recorded))


def _register(ctx: VerifyContext, account: str, recorded: str) -> str:
    """A revision of the recorded probe definition with --probe-image; remembered to release."""
    ecs = ctx.client(account, "ecs")
    described = ecs.describe_task_definition(taskDefinition=recorded)
    definition: dict[str, Any] = described["taskDefinition"]
    request = {key: definition[key] for key in _REGISTER_KEYS if definition.get(key)}
    request["containerDefinitions"] = [
        {**container, "image": ctx.options.probe_image}
        for container in definition["containerDefinitions"]
    ]
    tags = described.get("tags") or []
    if tags:
        request["tags"] = tags
    arn = str(ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"])
    ctx.memo(("probe-definition-registered", account, arn), lambda: arn)
    return arn


def registered(ctx: VerifyContext) -> list[tuple[str, str]]:
    """(account, ARN) of every revision this run registered."""
    return [
        (str(key[1]), str(key[2]))
        for key in ctx.memo_keys()
        if key and key[0] == "probe-definition-registered"
    ]


def release(ctx: VerifyContext) -> list[str]:
    """Deregister what this run registered; the ARNs it could not deregister (said later)."""
    left: list[str] = []
    for account, arn in registered(ctx):
        try:
            ctx.client(account, "ecs").deregister_task_definition(taskDefinition=arn)
        except Exception:  # botocore ClientError: the run's verdicts stand; say it instead
            left.append(arn)
    return left
