"""One probe: an ECS RunTask in the consumer's network that calls a URL, and its exit code.

The task is the consumer's own task definition, in the consumer's private subnets with
the consumer's task security group, so the probe leaves from exactly where the
consumer's tasks would: the verdict is about the network path, not about meshlink's
laptop. The container runs the bundled service's ``probe`` command
(``service/src/meshlink_service/probe.py``), whose exit code says what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from meshlink.aws.errors import error_code
from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import EdgeOutputs, PlatformOutputs, ServiceOutputs
from meshlink.verify.context import VerifyContext

ProbeKind = Literal["positive", "negative"]
STARTED_BY = "meshlink-verify"
# Exit codes of `python -m meshlink_service probe` (meshlink_service.probe.ProbeOutcome).
EXIT_MEANINGS = {
    0: "ok",
    1: "crashed",
    2: "usage",
    10: "unreachable",
    11: "timeout",
    12: "http-status",
    13: "wrong-service",
    14: "bad-response",
}
# A negative probe proves isolation only when nothing answered at all.
UNREACHABLE_CODES = frozenset({10, 11})


@dataclass(frozen=True)
class ProbeSpec:
    """Call `url` from `consumer`'s network and expect `expect_service` to answer."""

    kind: ProbeKind
    consumer: str
    provider: str
    url: str
    expect_service: str


@dataclass
class ProbeRun:
    """How one probe task ended."""

    outcome: str  # an EXIT_MEANINGS value, or "not-started" / "task-timeout" / "cancelled"
    exit_code: int | None = None
    task_arn: str | None = None
    stopped_reason: str | None = None
    seconds: float = 0.0
    output: list[str] = field(default_factory=list)
    address: str | None = None  # the probe task's own address (its ENI's)
    # Local cloud: why the data plane refused the probe's connections (group, ENI, port).
    refused: list[str] = field(default_factory=list)

    @property
    def refusal(self) -> str | None:
        """The data plane's reason for refusing the probe, for a message (None if none)."""
        if not self.refused:
            return None
        more = len(self.refused) - 1
        return self.refused[0] + (f" (and {more} more)" if more else "")

    def evidence(self, spec: ProbeSpec) -> dict[str, Any]:
        data: dict[str, Any] = {
            "url": spec.url,
            "expect_service": spec.expect_service,
            "from": spec.consumer,
            "exit_code": self.exit_code,
            "outcome": self.outcome,
            "task_arn": self.task_arn,
            "stopped_reason": self.stopped_reason,
            "task_seconds": round(self.seconds, 3),
        }
        if self.output:
            data["output"] = self.output
        if self.refused:
            data["refused"] = self.refused
        return data


def probe_command(ctx: VerifyContext, spec: ProbeSpec) -> list[str]:
    """The container command override that runs the probe.

    The service image's ENTRYPOINT is ``python -m meshlink_service``, so on AWS the
    override is only its arguments; the local cloud treats a command the same way
    (arguments to the entrypoint), except for a service with its own
    ``local.command``, whose entrypoint is not the bundled service: that one gets
    the whole command line.
    """
    args = [
        "probe",
        spec.url,
        "--expect-service",
        spec.expect_service,
        "--timeout",
        f"{ctx.options.probe_timeout:g}",
    ]
    local = ctx.topology.services[spec.consumer].local
    if ctx.topology.target == "local" and local is not None and local.command:
        return ["python", "-m", "meshlink_service", *args]
    return args


def launch_parameters(ctx: VerifyContext, spec: ProbeSpec) -> dict[str, Any] | str:
    """RunTask's arguments, or why the consumer cannot run a probe."""
    account = ctx.account_of(spec.consumer)
    cluster = ctx.outputs(node_id("platform", account)).get(PlatformOutputs.CLUSTER_NAME)
    service = ctx.outputs(node_id("service", spec.consumer))
    definition = service.get(ServiceOutputs.TASK_DEFINITION_ARN)
    group = ctx.edge_output(spec.consumer, EdgeOutputs.TASK_SECURITY_GROUP_ID)
    subnets = list(ctx.outputs(node_id("network", account)).get("private_subnet_ids") or [])
    missing = [
        name
        for name, value in (
            ("cluster", cluster),
            ("task definition", definition),
            ("task security group", group),
            ("private subnets", subnets),
        )
        if not value
    ]
    if missing:
        return f"{spec.consumer} has no recorded {', '.join(missing)}"
    return {
        "cluster": cluster,
        "taskDefinition": definition,
        "launchType": "FARGATE",
        "count": 1,
        "startedBy": STARTED_BY,
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [group],
                "assignPublicIp": "DISABLED",
            }
        },
        "overrides": {
            "containerOverrides": [{"name": spec.consumer, "command": probe_command(ctx, spec)}]
        },
    }


def run_probe(ctx: VerifyContext, spec: ProbeSpec) -> ProbeRun:
    """Start the probe task, wait until it stops (or time out and stop it), read its exit."""
    started = time.monotonic()
    wall = time.time()
    params = launch_parameters(ctx, spec)
    if isinstance(params, str):
        return ProbeRun("not-started", stopped_reason=params)
    ecs = ctx.client(ctx.account_of(spec.consumer), "ecs")
    try:
        answer = ecs.run_task(**params)
    except Exception as error:  # botocore ClientError: the task could not even be created
        code = error_code(error)
        if not code:
            raise
        return ProbeRun("not-started", stopped_reason=f"RunTask: {code}: {error}")
    if not answer.get("tasks"):
        failures = answer.get("failures") or [{}]
        reason = f"RunTask: {failures[0].get('reason')} {failures[0].get('detail') or ''}"
        return ProbeRun("not-started", stopped_reason=reason.strip())
    arn = str(answer["tasks"][0]["taskArn"])
    allowed = ctx.options.task_deadline(ctx.runtime.deadlines)
    deadline = started + allowed
    delay = 0.1 if ctx.topology.target == "local" else 2.0
    while True:
        task = _describe(ecs, params["cluster"], arn)
        if task is not None and task.get("lastStatus") == "STOPPED":
            run = _ended(task)
            run.seconds = time.monotonic() - started
            run.output = _output(ctx, spec, arn)
            if run.exit_code != 0:
                run.refused = _refusals(ctx, run.address, wall)
            return run
        if ctx.cancelled.is_set():
            ecs.stop_task(
                cluster=params["cluster"], task=arn, reason="meshlink verify: interrupted"
            )
            return ProbeRun("cancelled", task_arn=arn, seconds=time.monotonic() - started)
        if time.monotonic() > deadline:
            ecs.stop_task(cluster=params["cluster"], task=arn, reason="meshlink verify: timed out")
            return ProbeRun(
                "task-timeout",
                task_arn=arn,
                stopped_reason=f"did not stop within {allowed:g} s",
                seconds=time.monotonic() - started,
            )
        ctx.cancelled.wait(delay)
        delay = min(delay * 1.5, 0.5 if ctx.topology.target == "local" else 5.0)


def _describe(ecs: Any, cluster: str, arn: str) -> dict[str, Any] | None:
    tasks = ecs.describe_tasks(cluster=cluster, tasks=[arn]).get("tasks") or []
    return dict(tasks[0]) if tasks else None


def _ended(task: dict[str, Any]) -> ProbeRun:
    containers = task.get("containers") or [{}]
    code = containers[0].get("exitCode")
    reason = task.get("stoppedReason") or containers[0].get("reason")
    if code is None:
        return ProbeRun("not-started", task_arn=task["taskArn"], stopped_reason=reason)
    meaning = EXIT_MEANINGS.get(int(code), "crashed")
    run = ProbeRun(meaning, int(code), task["taskArn"], reason)
    run.address = _address(task)
    return run


def _address(task: dict[str, Any]) -> str | None:
    """The task's private address (its ENI's), as ECS describes it."""
    for attachment in task.get("attachments") or []:
        for detail in attachment.get("details") or []:
            if detail.get("name") == "privateIPv4Address" and detail.get("value"):
                return str(detail["value"])
    return None


def _refusals(ctx: VerifyContext, address: str | None, since: float) -> list[str]:
    """Local cloud: the distinct reasons its data plane refused connections from `address`."""
    if ctx.topology.target != "local" or not address:
        return []  # on AWS nothing records a refused packet: control checks name the cause
    endpoint_url = ctx.runtime.endpoint_url
    if not endpoint_url:
        return []
    from meshlink.errors import EnvironmentProblem
    from meshlink.localcloud.dataplane.api import refusals

    try:
        found = refusals(address, since - 1.0, endpoint_url=endpoint_url)
    except EnvironmentProblem:
        return []  # the reason is a convenience: the verdict stands without it
    reasons: list[str] = []
    for refusal in found:
        text = f"{refusal.get('address')}:{refusal.get('port')}: {refusal.get('reason')}"
        if text not in reasons:
            reasons.append(text)
    return reasons


def _output(ctx: VerifyContext, spec: ProbeSpec, arn: str) -> list[str]:
    """The probe's own line from CloudWatch Logs (awslogs), when the target has it."""
    if ctx.topology.target != "aws":
        return []  # the local cloud keeps task output in files: `meshlink local logs`
    account = ctx.account_of(spec.consumer)
    group = ctx.outputs(node_id("platform", account)).get(PlatformOutputs.LOG_GROUP_NAME)
    if not group:
        return []
    stream = f"{spec.consumer}/{spec.consumer}/{arn.rsplit('/', 1)[-1]}"
    try:
        events = ctx.client(account, "logs").get_log_events(
            logGroupName=group, logStreamName=stream, limit=20
        )["events"]
    except Exception:  # the stream may not exist yet: output is a convenience only
        return []
    return [str(e.get("message", "")).rstrip() for e in events][-5:]
