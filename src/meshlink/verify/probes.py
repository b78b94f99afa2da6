"""Probe tasks: one ECS RunTask per consumer that probes all of its targets at once.

The task is the account's probe task definition (``platform`` stack output
``ProbeTaskDefinitionArn``; ``--probe-image`` registers a revision for one run), run in
the consumer's private subnets with the consumer's task security group, so the probes
leave from exactly where the consumer's tasks would: the verdict is about the network
path, not about meshlink's laptop, and not about the service's own image. The container
runs the bundled service's ``probe-all NAME=HOST:PORT ...``
(``service/src/meshlink_service/probe_all.py``): one JSON line per target with the
``probe`` exit code it would have had, then ``{"done": N}``. Verify reads those lines
from CloudWatch Logs (awslogs) on AWS, from the task's log file in the local cloud.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from meshlink.aws.errors import error_code
from meshlink.deadlines import pauses
from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import EdgeOutputs, PlatformOutputs
from meshlink.verify.context import VerifyContext

ProbeKind = Literal["positive", "negative"]
STARTED_BY = "meshlink-verify"
PROBE_CONTAINER = "probe"  # stacks/platform.py::PROBE_CONTAINER (not imported: no CDK here)
PROBE_PATH = "/health"
# RunTask allows 8192 characters of overrides, JSON included; a consumer whose targets
# do not fit gets more than one task (about 80 targets at AWS name lengths fit in one).
OVERRIDES_BUDGET = 8000
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
# How long CloudWatch Logs may take to show a stopped probe task's lines (AWS).
LOG_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class ProbeSpec:
    """Call `url` from `consumer`'s network and expect `expect_service` to answer."""

    kind: ProbeKind
    consumer: str
    provider: str
    url: str
    expect_service: str


# What a probe aims at: the consumer's endpoint (an edge), the provider's NLB, or one of
# the provider's tasks directly (a non-edge in one VPC, where only groups stand between).
ProbeVia = Literal["endpoint", "nlb", "tasks"]


@dataclass(frozen=True)
class ProbeTarget:
    """One provider a consumer's probe task calls: at its endpoint, its NLB or a task."""

    kind: ProbeKind
    consumer: str
    provider: str
    host: str
    port: int
    via: ProbeVia = "endpoint"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{PROBE_PATH}"

    @property
    def name(self) -> str:
        """The target's name in the probe task's list and lines: the provider, or
        ``<provider>.tasks`` for its tasks (a name no service has, so any answer fails)."""
        return f"{self.provider}.tasks" if self.via == "tasks" else self.provider

    @property
    def argument(self) -> str:
        """The probe-all target: NAME=HOST:PORT, NAME the service expected to answer."""
        return f"{self.name}={self.host}:{self.port}"

    def spec(self) -> ProbeSpec:
        return ProbeSpec(self.kind, self.consumer, self.provider, self.url, self.provider)


@dataclass
class ProbeRun:
    """How one probe ended (a target's line), or how its task ended when it has none."""

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


def probe_command(ctx: VerifyContext, targets: list[ProbeTarget]) -> list[str]:
    """The container command: arguments to the probe image's entrypoint
    (``python -m meshlink_service``); the local cloud runs them the same way."""
    timeout = f"{ctx.options.probe_timeout:g}"
    return ["probe-all", "--timeout", timeout, *(t.argument for t in targets)]


def chunks(ctx: VerifyContext, targets: list[ProbeTarget]) -> list[list[ProbeTarget]]:
    """The targets split so that each task's overrides stay within RunTask's limit."""
    result: list[list[ProbeTarget]] = []
    current: list[ProbeTarget] = []
    for target in targets:
        trial = [*current, target]
        size = len(json.dumps(_overrides(probe_command(ctx, trial))))
        if current and size > OVERRIDES_BUDGET:
            result.append(current)
            trial = [target]
        current = trial
    if current:
        result.append(current)
    return result


def _overrides(command: list[str]) -> dict[str, Any]:
    return {"containerOverrides": [{"name": PROBE_CONTAINER, "command": command}]}


def launch_parameters(
    ctx: VerifyContext, consumer: str, targets: list[ProbeTarget]
) -> dict[str, Any] | str:
    """RunTask's arguments, or why the consumer cannot run a probe task."""
    from meshlink.verify.probe_image import probe_definition

    account = ctx.account_of(consumer)
    cluster = ctx.outputs(node_id("platform", account)).get(PlatformOutputs.CLUSTER_NAME)
    definition = probe_definition(ctx, account)
    group = ctx.edge_output(consumer, EdgeOutputs.TASK_SECURITY_GROUP_ID)
    subnets = list(ctx.network_of(account).get("private_subnet_ids") or [])
    missing = [
        name
        for name, value in (
            ("cluster", cluster),
            ("probe task definition (run meshlink up to add it)", definition),
            ("task security group", group),
            ("private subnets", subnets),
        )
        if not value
    ]
    if missing:
        return f"{consumer} has no recorded {', '.join(missing)}"
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
        "overrides": _overrides(probe_command(ctx, targets)),
    }


def run_batch(ctx: VerifyContext, consumer: str, targets: list[ProbeTarget]) -> dict[str, ProbeRun]:
    """Probe every target from `consumer`'s network: target name -> how its probe ended."""
    found: dict[str, ProbeRun] = {}
    for chunk in chunks(ctx, targets):
        found.update(_run_chunk(ctx, consumer, chunk))
    return found


def _run_chunk(
    ctx: VerifyContext, consumer: str, targets: list[ProbeTarget]
) -> dict[str, ProbeRun]:
    task = run_task(ctx, consumer, targets)
    lines = _result_lines(task.output)
    results: dict[str, ProbeRun] = {}
    for target in targets:
        line = lines.get(target.name)
        if line is None:
            results[target.name] = _without_line(task, target)
            continue
        code = int(line.get("code", 1))
        results[target.name] = replace(
            task,
            outcome=EXIT_MEANINGS.get(code, "crashed"),
            exit_code=code,
            output=[_line_text(line)],
            refused=_refused_for(task.refused, str(line.get("url") or "")) if code else [],
        )
    return results


def _without_line(task: ProbeRun, target: ProbeTarget) -> ProbeRun:
    """The target's result when the task printed none: how the task itself ended."""
    if task.exit_code is None:
        return replace(task, refused=[])
    why = f"the probe task exited {task.exit_code} without a result for {target.name}"
    return replace(task, outcome="not-started", exit_code=None, stopped_reason=why, refused=[])


def _result_lines(output: list[str]) -> dict[str, dict[str, Any]]:
    """probe-all's JSON lines by target; {} unless the done line says the list is complete."""
    lines: dict[str, dict[str, Any]] = {}
    complete = False
    for text in output:
        try:
            data = json.loads(text)
        except ValueError:
            continue  # the local cloud's own lines ("exited with code 0"), tracebacks
        if isinstance(data, dict) and "target" in data:
            lines[str(data["target"])] = data
        elif isinstance(data, dict) and "done" in data:
            complete = True
    return lines if complete else {}


def _line_text(line: dict[str, Any]) -> str:
    """probe's one-line form: ``<outcome>: <url> <detail> (<ms> ms)``."""
    return f"{line.get('outcome')}: {line.get('url')} {line.get('detail')} ({line.get('ms')} ms)"


def _refused_for(refused: list[str], url: str) -> list[str]:
    """The task's refusals at the address this target's URL named (local cloud)."""
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port}:"
    return [reason for reason in refused if reason.startswith(where)]


def run_task(ctx: VerifyContext, consumer: str, targets: list[ProbeTarget]) -> ProbeRun:
    """Start one probe task, wait until it stops (or time out and stop it), read its lines."""
    started = time.monotonic()
    wall = time.time()
    params = launch_parameters(ctx, consumer, targets)
    if isinstance(params, str):
        return ProbeRun("not-started", stopped_reason=params)
    ecs = ctx.client(ctx.account_of(consumer), "ecs")
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
    # A task RunTask just made is still PENDING: the first look waits a little (the local
    # cloud starts a process, which takes no less), later ones back off.
    local = ctx.topology.target == "local"
    waits = pauses(0.3, 0.5) if local else pauses(2.0, 5.0)
    while True:
        ctx.cancelled.wait(next(waits))
        task = _describe(ecs, params["cluster"], arn)
        if task is not None and task.get("lastStatus") == "STOPPED":
            run = _ended(task)
            run.output = _output(ctx, consumer, arn)
            run.seconds = time.monotonic() - started
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
    run.address = private_address(task)
    return run


def private_address(task: dict[str, Any]) -> str | None:
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


def _output(ctx: VerifyContext, consumer: str, arn: str) -> list[str]:
    """The probe task's lines: its log file (local cloud) or its awslogs stream (AWS)."""
    task_id = arn.rsplit("/", 1)[-1]
    if ctx.topology.target == "local":
        from meshlink.localcloud.dataplane.api import read_task_log, task_logs

        found = task_logs(task_id)
        return read_task_log(found[-1].path, None).splitlines() if found else []
    account = ctx.account_of(consumer)
    group = ctx.outputs(node_id("platform", account)).get(PlatformOutputs.LOG_GROUP_NAME)
    if not group:
        return []
    stream = f"{PROBE_CONTAINER}/{PROBE_CONTAINER}/{task_id}"
    return _log_lines(ctx.client(account, "logs"), str(group), stream)


def _log_lines(logs: Any, group: str, stream: str) -> list[str]:
    """Every line of a log stream, waiting (LOG_GRACE_SECONDS) until the done line is in."""
    deadline = time.monotonic() + LOG_GRACE_SECONDS
    lines: list[str] = []
    token: str | None = None
    while True:
        request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream}
        request |= {"nextToken": token} if token else {"startFromHead": True}
        try:
            page = logs.get_log_events(**request)
        except Exception as error:  # the stream may not exist yet
            if not error_code(error):
                raise
            page = {"events": [], "nextForwardToken": token}
        lines += [str(e.get("message", "")).rstrip() for e in page.get("events") or []]
        token = page.get("nextForwardToken") or token
        if any('"done"' in line for line in lines) or time.monotonic() > deadline:
            return lines
        if not page.get("events"):
            time.sleep(1.0)
