"""Control-plane checks of operations: auto scaling registered, and the alarms' states."""

from __future__ import annotations

from typing import Any

from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import PlatformOutputs
from meshlink.verify.context import VerifyContext
from meshlink.verify.control_privatelink import Targets, providers
from meshlink.verify.model import CheckResult, CheckSpec, Subject, Verdict

SCALABLE_DIMENSION = "ecs:service:DesiredCount"  # as stacks/operations.py registers it


def alarm_names(mesh: str, service: str, exposed: bool) -> list[str]:
    """The alarms meshlink deploys for one service (stacks/operations.py names them)."""
    kinds = ["tasks-below-desired"]
    if exposed:
        kinds = ["endpoints-connected", "no-healthy-targets", *kinds]
    return [f"meshlink-{mesh}-{service}-{kind}" for kind in kinds]


# DescribeAlarms' AlarmNames limit
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html)
ALARM_NAMES_PER_CALL = 100


def _account_alarms(ctx: VerifyContext, account: str) -> dict[str, dict[str, Any]]:
    """The alarms of every checked service of `account`, by name: one DescribeAlarms for
    them all (up to 100 names a call), not one per service."""

    def fetch() -> dict[str, dict[str, Any]]:
        names = [
            name
            for subject, _ in providers(ctx)
            if ctx.account_of(subject.name) == account
            for name in alarm_names(
                ctx.topology.name, subject.name, bool(ctx.topology.consumers_of(subject.name))
            )
        ]
        client = ctx.client(account, "cloudwatch")
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(names), ALARM_NAMES_PER_CALL):
            request: dict[str, Any] = {"AlarmNames": names[start : start + ALARM_NAMES_PER_CALL]}
            while True:  # a page holds MaxRecords alarms (50 unless said)
                page = client.describe_alarms(**request)
                for alarm in page.get("MetricAlarms", []):
                    found[str(alarm["AlarmName"])] = alarm
                if not page.get("NextToken"):
                    break
                request["NextToken"] = page["NextToken"]
        return found

    return ctx.memo(("alarms", account), fetch)


def scaled_services(ctx: VerifyContext) -> Targets:
    """Services whose topology asks for auto scaling."""
    return [
        (Subject("service", name), edges)
        for subject, edges in providers(ctx)
        if ctx.topology.services[name := subject.name].scaling is not None
    ]


def _cluster(ctx: VerifyContext, service: str) -> str | None:
    found = ctx.outputs(node_id("platform", ctx.account_of(service)))
    cluster = found.get(PlatformOutputs.CLUSTER_NAME)
    return str(cluster) if cluster else None


def check_scaling(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """The ECS service is a scalable target with the topology's bounds and one policy."""
    service = verdict.subject.name
    scaling = ctx.topology.services[service].scaling
    assert scaling is not None
    cluster = _cluster(ctx, service)
    if cluster is None:
        return verdict.failed(f"{service} has no recorded ECS cluster")
    resource = f"service/{cluster}/{service}"
    client = ctx.client(ctx.account_of(service), "application-autoscaling")
    targets = client.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource], ScalableDimension=SCALABLE_DIMENSION
    ).get("ScalableTargets", [])
    policies = client.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=SCALABLE_DIMENSION
    ).get("ScalingPolicies", [])
    evidence: dict[str, Any] = {
        "resource_id": resource,
        "expected": {"min": scaling.min, "max": scaling.max},
        "registered": [{"min": t.get("MinCapacity"), "max": t.get("MaxCapacity")} for t in targets],
        "policies": [{"name": p.get("PolicyName"), "type": p.get("PolicyType")} for p in policies],
    }
    if not targets:
        return verdict.failed(
            f"{service} is not registered with Application Auto Scaling", **evidence
        )
    bounds = (targets[0].get("MinCapacity"), targets[0].get("MaxCapacity"))
    if bounds != (scaling.min, scaling.max):
        return verdict.failed(
            f"{service} scales {bounds[0]}..{bounds[1]}, the topology says "
            f"{scaling.min}..{scaling.max}",
            **evidence,
        )
    tracking = [p for p in policies if p.get("PolicyType") == "TargetTrackingScaling"]
    if not tracking:
        return verdict.failed(f"{service} has no target tracking policy", **evidence)
    return verdict.passed(
        f"{service} scales {scaling.min}..{scaling.max} by target tracking", **evidence
    )


def check_alarms(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """Every alarm of the service exists; its state is reported (ALARM fails)."""
    service = verdict.subject.name
    expected = alarm_names(ctx.topology.name, service, bool(ctx.topology.consumers_of(service)))
    found = _account_alarms(ctx, ctx.account_of(service))
    states = {name: found[name].get("StateValue") if name in found else None for name in expected}
    evidence = {"alarms": states}
    missing = [name for name, state in states.items() if state is None]
    if missing:
        return verdict.failed(f"alarm {missing[0]} does not exist", **evidence)
    firing = [name for name, state in states.items() if state == "ALARM"]
    if firing:
        reason = found[firing[0]].get("StateReason") or ""
        return verdict.failed(f"alarm {firing[0]} is in ALARM: {reason}".rstrip(": "), **evidence)
    shown = ", ".join(
        f"{name.removeprefix(f'meshlink-{ctx.topology.name}-')} {state}"
        for name, state in states.items()
    )
    return verdict.passed(f"{len(states)} alarms, none firing: {shown}", **evidence)


CHECKS = [
    CheckSpec(
        "service.scaling",
        "control",
        "auto scaling is registered with the topology's bounds",
        scaled_services,
        check_scaling,
    ),
    CheckSpec(
        "service.alarms",
        "control",
        "the service's alarms exist and none is in ALARM",
        providers,
        check_alarms,
    ),
]
