"""Control-plane checks of what carries the traffic: security groups, NLB targets, ECS."""

from __future__ import annotations

from typing import Any

from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import EdgeOutputs, EndpointsOutputs, PlatformOutputs, ServiceOutputs
from meshlink.verify.context import VerifyContext, is_not_found
from meshlink.verify.control_privatelink import (
    all_edges,
    endpoint_zone_ids,
    internal_edges,
    providers,
)
from meshlink.verify.model import CheckResult, CheckSpec, Verdict

OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})


def grants(group: dict[str, Any]) -> list[dict[str, Any]]:
    """A security group's ingress flattened: one entry per (protocol, ports, source)."""
    found: list[dict[str, Any]] = []
    for perm in group.get("IpPermissions") or []:
        base = {
            "protocol": str(perm.get("IpProtocol")),
            "from_port": perm.get("FromPort"),
            "to_port": perm.get("ToPort"),
        }
        for pair in perm.get("UserIdGroupPairs") or []:
            found.append({**base, "source_group": pair.get("GroupId")})
        for cidr in perm.get("IpRanges") or []:
            found.append({**base, "cidr": cidr.get("CidrIp")})
        for cidr in perm.get("Ipv6Ranges") or []:
            found.append({**base, "cidr": cidr.get("CidrIpv6")})
        for prefix in perm.get("PrefixListIds") or []:
            found.append({**base, "prefix_list": prefix.get("PrefixListId")})
    return found


def _is_exact(grant: dict[str, Any], source_group: str | None, port: int) -> bool:
    return (
        grant["protocol"] == "tcp"
        and grant["from_port"] == port
        and grant["to_port"] == port
        and grant.get("source_group") == source_group
        and source_group is not None
    )


def judge_ingress(
    verdict: Verdict,
    groups: dict[str, dict[str, Any] | None],
    *,
    source_group: str | None,
    port: int,
    what: str,
    **extra: Any,
) -> CheckResult:
    """Pass when the groups admit `source_group` on tcp/`port` and nothing else at all."""
    missing_groups = sorted(g for g, v in groups.items() if v is None)
    rules = [{"group": g, **r} for g, v in groups.items() if v is not None for r in grants(v)]
    exact = [r for r in rules if _is_exact(r, source_group, port)]
    broader = [r for r in rules if not _is_exact(r, source_group, port)]
    evidence = {
        "groups": sorted(groups),
        "expected": {"source_group": source_group, "protocol": "tcp", "port": port},
        "rules": rules,
        "broader": broader,
        **extra,
    }
    if missing_groups:
        return verdict.failed(f"{what}: {', '.join(missing_groups)} does not exist", **evidence)
    open_rules = [r for r in broader if r.get("cidr") in OPEN_CIDRS]
    if open_rules:
        return verdict.failed(f"{what} is open to {open_rules[0]['cidr']}", **evidence)
    if broader:
        first = broader[0]
        source = first.get("source_group") or first.get("cidr") or first.get("prefix_list")
        return verdict.failed(
            f"{what} also admits {source} on {first['protocol']} "
            f"{first['from_port']}-{first['to_port']}",
            **evidence,
        )
    if not exact:
        return verdict.failed(f"{what} does not admit {source_group} on tcp/{port}", **evidence)
    return verdict.passed(f"{what} admits only {source_group} on tcp/{port}", **evidence)


def check_endpoint_security_group(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """The endpoint's groups admit the consumer's task group on the provider port, only."""
    consumer, provider = str(verdict.subject.consumer), str(verdict.subject.provider)
    endpoint = ctx.endpoint(consumer, provider)
    if endpoint is None:
        return verdict.skipped("no endpoint to inspect (see endpoint.available)")
    account = ctx.endpoints_account(consumer)
    group_ids = [str(g["GroupId"]) for g in endpoint.get("Groups") or []]
    recorded = ctx.outputs(node_id("endpoints", consumer)).get(
        EndpointsOutputs.security_group_id(provider)
    )
    task_group = ctx.edge_output(consumer, EdgeOutputs.TASK_SECURITY_GROUP_ID)
    groups = {g: ctx.security_group(account, g) for g in group_ids}
    return judge_ingress(
        verdict,
        groups,
        source_group=task_group,
        port=ctx.topology.port_of(provider),
        what=f"endpoint {endpoint['VpcEndpointId']}",
        recorded_group=recorded,
    )


def check_task_security_group(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """The provider's task group admits only its NLB's group, on the service port; the
    group of a service consumed by no one (it has no NLB) admits nothing at all."""
    service = verdict.subject.name
    task_group = ctx.edge_output(service, EdgeOutputs.TASK_SECURITY_GROUP_ID)
    nlb_group = ctx.edge_output(service, EdgeOutputs.LOAD_BALANCER_SECURITY_GROUP_ID)
    if task_group is None:
        return verdict.failed(f"{service} has no recorded task security group")
    group = ctx.security_group(ctx.account_of(service), task_group)
    if not ctx.topology.consumers_of(service):
        return _admits_nothing(verdict, task_group, group)
    return judge_ingress(
        verdict,
        {task_group: group},
        source_group=nlb_group,
        port=ctx.topology.services[service].port,
        what=f"task group {task_group}",
    )


def _admits_nothing(verdict: Verdict, task_group: str, group: dict[str, Any] | None) -> CheckResult:
    what = f"task group {task_group}"
    if group is None:
        return verdict.failed(f"{what} does not exist", groups=[task_group])
    rules = grants(group)
    evidence = {
        "groups": [task_group],
        "expected": "no ingress (consumed by no one)",
        "rules": rules,
    }
    if rules:
        first = rules[0]
        source = first.get("source_group") or first.get("cidr") or first.get("prefix_list")
        return verdict.failed(
            f"{what} admits {source} on {first['protocol']} {first['from_port']}-"
            f"{first['to_port']}, but no one consumes the service",
            **evidence,
        )
    return verdict.passed(f"{what} admits no one (no consumer, no NLB)", **evidence)


def _healthy_target_zones(ctx: VerifyContext, provider: str) -> dict[str, Any]:
    """Target health of the provider's group, and the zone id of every healthy target."""

    def fetch() -> dict[str, Any]:
        account = ctx.account_of(provider)
        elbv2 = ctx.client(account, "elbv2")
        arn = ctx.edge_output(provider, EdgeOutputs.TARGET_GROUP_ARN)
        lb_arn = ctx.edge_output(provider, EdgeOutputs.LOAD_BALANCER_ARN)
        # verify's settle step keeps its last read of every target group under this key
        health = ctx.memo(
            ("target-health", provider),
            lambda: list(
                elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
            ),
        )
        states = {
            f"{h['Target']['Id']}:{h['Target'].get('Port')}": h["TargetHealth"]["State"]
            for h in health
        }
        healthy = [h["Target"]["Id"] for h in health if h["TargetHealth"]["State"] == "healthy"]
        zones: dict[str, str] = {}
        if healthy:
            ec2 = ctx.client(account, "ec2")
            enis = ec2.describe_network_interfaces(
                Filters=[{"Name": "addresses.private-ip-address", "Values": healthy}]
            )["NetworkInterfaces"]
            by_subnet = ctx.subnet_zone_ids(account, sorted({e["SubnetId"] for e in enis}))
            zones = {e["PrivateIpAddress"]: by_subnet.get(e["SubnetId"], "") for e in enis}
        attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=lb_arn)["Attributes"]
        cross_zone = any(
            a["Key"] == "load_balancing.cross_zone.enabled" and a["Value"] == "true"
            for a in attributes
        )
        return {"targets": states, "healthy_zone_ids": zones, "cross_zone": cross_zone}

    return ctx.memo(("targets", provider), fetch)


def check_targets(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """Healthy NLB targets serve every zone the consumer's endpoint sits in."""
    consumer, provider = str(verdict.subject.consumer), str(verdict.subject.provider)
    try:
        found = _healthy_target_zones(ctx, provider)
    except Exception as error:
        if is_not_found(error):
            return verdict.failed(f"the NLB or target group of {provider} does not exist")
        raise
    endpoint_zones = sorted(set(endpoint_zone_ids(ctx, consumer, provider).values()))
    healthy_zones = set(found["healthy_zone_ids"].values())
    uncovered = [z for z in endpoint_zones if z not in healthy_zones]
    evidence = {**found, "endpoint_zone_ids": endpoint_zones, "uncovered_zone_ids": uncovered}
    if not found["healthy_zone_ids"]:
        total = len(found["targets"])
        return verdict.failed(f"{provider} has no healthy target ({total} registered)", **evidence)
    if uncovered and not found["cross_zone"]:
        return verdict.failed(
            f"no healthy {provider} target in {', '.join(uncovered)} and cross-zone is off",
            **evidence,
        )
    count = len(found["healthy_zone_ids"])
    note = f" (cross-zone serves {', '.join(uncovered)})" if uncovered else ""
    return verdict.passed(f"{count} healthy target(s) serve the endpoint{note}", **evidence)


def check_ecs_service(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """The ECS service runs the topology's desired count, with one completed deployment."""
    service = verdict.subject.name
    arn = ctx.outputs(node_id("service", service)).get(ServiceOutputs.ECS_SERVICE_ARN)
    platform = node_id("platform", ctx.account_of(service))
    cluster = ctx.outputs(platform).get(PlatformOutputs.CLUSTER_NAME)
    if not arn or not cluster:
        return verdict.failed(f"{service} has no recorded ECS service")

    def fetch() -> dict[str, Any] | None:
        ecs = ctx.client(ctx.account_of(service), "ecs")
        answer = ecs.describe_services(cluster=cluster, services=[arn]).get("services") or []
        return dict(answer[0]) if answer else None

    # verify's settle step keeps its last (batched) read of every service under this key
    described = ctx.memo(("ecs-service", service), fetch)
    found = [described] if described else []
    if not found or found[0].get("status") != "ACTIVE":
        status = found[0].get("status") if found else "absent"
        return verdict.failed(f"ECS service of {service} is {status}", service_arn=arn)
    svc = found[0]
    wanted = ctx.topology.services[service].desired_count
    deployments = [
        {
            "status": d.get("status"),
            "rollout": d.get("rolloutState"),
            "running": d.get("runningCount"),
        }
        for d in svc.get("deployments") or []
    ]
    evidence = {
        "service_arn": arn,
        "topology_desired": wanted,
        "desired": svc.get("desiredCount"),
        "running": svc.get("runningCount"),
        "pending": svc.get("pendingCount"),
        "deployments": deployments,
    }
    scaling = ctx.topology.services[service].scaling
    if scaling is not None and scaling.min <= (svc.get("desiredCount") or 0) <= scaling.max:
        # Auto scaling owns the desired count within the topology's bounds.
        wanted = svc.get("desiredCount") or 0
        evidence["scaling"] = {"min": scaling.min, "max": scaling.max}
    if svc.get("desiredCount") != wanted:
        return verdict.failed(
            f"desired count is {svc.get('desiredCount')}, the topology says {wanted}", **evidence
        )
    if svc.get("runningCount") != wanted or svc.get("pendingCount"):
        return verdict.failed(
            f"{svc.get('runningCount')} of {wanted} tasks running "
            f"({svc.get('pendingCount')} pending)",
            **evidence,
        )
    unstable = [d for d in deployments if d["rollout"] not in (None, "COMPLETED")]
    if len(deployments) > 1 or unstable:
        return verdict.failed(f"deployment not stable: {deployments}", **evidence)
    return verdict.passed(f"{wanted}/{wanted} tasks running, deployment completed", **evidence)


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "endpoint.security-group",
        "control",
        "the endpoint admits the consumer's tasks on the port, nothing broader",
        all_edges,
        check_endpoint_security_group,
    ),
    CheckSpec(
        "service.task-security-group",
        "control",
        "the provider's tasks admit only its NLB's security group (no one, if unconsumed)",
        providers,
        check_task_security_group,
    ),
    CheckSpec(
        "nlb.targets-healthy",
        "control",
        "healthy NLB targets serve every endpoint zone",
        internal_edges,
        check_targets,
    ),
    CheckSpec(
        "service.ecs",
        "control",
        "the ECS service runs its desired count and is stable",
        providers,
        check_ecs_service,
    ),
)
