"""Control-plane checks of PrivateLink itself: principals, connections, endpoints, zones."""

from __future__ import annotations

from meshlink.stacks.outputs import EdgeOutputs
from meshlink.verify.context import VerifyContext, expected_principals
from meshlink.verify.model import CheckResult, CheckSpec, Edge, Subject, Verdict

# Connection states in which an endpoint can carry (or is about to carry) traffic.
LIVE_STATES = frozenset({"pendingAcceptance", "pending", "available"})

Targets = list[tuple[Subject, tuple[Edge, ...]]]


def providers(ctx: VerifyContext) -> Targets:
    """Every meshlink service, bearing on its incoming edges (none when unconsumed)."""
    return [(Subject("service", name), ctx.incoming(name)) for name in ctx.topology.services]


def exposed_providers(ctx: VerifyContext) -> Targets:
    """Meshlink services some service consumes: only those have an endpoint service."""
    return [(s, edges) for s, edges in providers(ctx) if edges]


def all_edges(ctx: VerifyContext) -> Targets:
    """Every consumer -> provider edge, external providers included."""
    return [(Subject.edge(c, p), ((c, p),)) for c, p in ctx.topology.edges()]


def internal_edges(ctx: VerifyContext) -> Targets:
    """Edges whose provider meshlink owns (its endpoint service is ours to inspect)."""
    return [(Subject.edge(c, p), ((c, p),)) for c, p in ctx.topology.internal_edges()]


def _missing_service(ctx: VerifyContext, verdict: Verdict, provider: str) -> CheckResult:
    return verdict.failed(
        f"the endpoint service of {provider} does not exist",
        service_id=ctx.service_id(provider),
    )


def check_principals(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """Allowed principals equal the consumers' accounts: no "*", nothing extra or missing."""
    provider = verdict.subject.name
    service_id = ctx.service_id(provider)
    allowed = ctx.principals(provider)
    if service_id is None or allowed is None:
        return _missing_service(ctx, verdict, provider)
    expected = expected_principals(ctx.topology, provider)
    actual = allowed
    extra = sorted(set(actual) - set(expected))
    missing = sorted(set(expected) - set(actual))
    evidence = {
        "service_id": service_id,
        "expected": expected,
        "actual": actual,
        "extra": extra,
        "missing": missing,
    }
    if "*" in actual:
        return verdict.failed(f"{service_id} allows every AWS principal (*)", **evidence)
    if extra or missing:
        parts = [f"extra {', '.join(extra)}"] if extra else []
        parts += [f"missing {', '.join(missing)}"] if missing else []
        detail = "; ".join(parts)
        return verdict.failed(f"{service_id} principals differ: {detail}", **evidence)
    return verdict.passed(
        f"{service_id} allows exactly {', '.join(expected) or 'no one'}", **evidence
    )


def check_unexpected_connections(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """No live connection on the provider's service from an endpoint meshlink did not make."""
    provider = verdict.subject.name
    if ctx.service_configuration(provider) is None:
        return _missing_service(ctx, verdict, provider)
    expected = ctx.expected_endpoints(provider)
    unexpected = [
        {
            "endpoint_id": eid,
            "owner": conn.get("VpcEndpointOwner"),
            "state": conn.get("VpcEndpointState"),
        }
        for eid, conn in sorted(ctx.connections(provider).items())
        if eid not in expected and conn.get("VpcEndpointState") in LIVE_STATES
    ]
    evidence = {"service_id": ctx.service_id(provider), "expected": expected}
    if unexpected:
        who = ", ".join(f"{u['endpoint_id']} of {u['owner']} ({u['state']})" for u in unexpected)
        return verdict.failed(f"unexpected connections: {who}", unexpected=unexpected, **evidence)
    return verdict.passed(
        f"{len(expected)} connection(s), all from meshlink's endpoints",
        unexpected=[],
        **evidence,
    )


def check_endpoint_available(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """The consumer's interface endpoint exists, is available, and targets the provider."""
    consumer, provider = str(verdict.subject.consumer), str(verdict.subject.provider)
    endpoint_id = ctx.endpoint_id(consumer, provider)
    if endpoint_id is None:
        return verdict.failed(f"{consumer} has no recorded endpoint to {provider}")
    endpoint = ctx.endpoint(consumer, provider)
    if endpoint is None:
        return verdict.failed(f"endpoint {endpoint_id} does not exist", endpoint_id=endpoint_id)
    if provider in ctx.topology.services:
        wanted = ctx.edge_output(provider, EdgeOutputs.SERVICE_NAME)
    else:
        wanted = ctx.topology.external[provider].service_name
    evidence = {
        "endpoint_id": endpoint_id,
        "state": endpoint.get("State"),
        "service_name": endpoint.get("ServiceName"),
        "expected_service_name": wanted,
        "vpc_id": endpoint.get("VpcId"),
    }
    if endpoint.get("ServiceName") != wanted:
        return verdict.failed(
            f"endpoint {endpoint_id} points at {endpoint.get('ServiceName')}", **evidence
        )
    if endpoint.get("State") != "available":
        return verdict.failed(f"endpoint {endpoint_id} is {endpoint.get('State')}", **evidence)
    return verdict.passed(f"endpoint {endpoint_id} is available", **evidence)


def check_connection_accepted(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """The provider sees the consumer's endpoint as an accepted (available) connection."""
    consumer, provider = str(verdict.subject.consumer), str(verdict.subject.provider)
    endpoint_id = ctx.endpoint_id(consumer, provider)
    if endpoint_id is None:
        return verdict.failed(f"{consumer} has no recorded endpoint to {provider}")
    if ctx.service_configuration(provider) is None:
        return _missing_service(ctx, verdict, provider)
    connection = ctx.connections(provider).get(endpoint_id)
    evidence = {
        "service_id": ctx.service_id(provider),
        "endpoint_id": endpoint_id,
        "state": connection.get("VpcEndpointState") if connection else None,
        "acceptance_required": ctx.topology.services[provider].acceptance_required,
    }
    if connection is None:
        return verdict.failed(f"{provider} has no connection from {endpoint_id}", **evidence)
    if connection.get("VpcEndpointState") != "available":
        return verdict.failed(
            f"connection from {endpoint_id} is {connection.get('VpcEndpointState')}", **evidence
        )
    return verdict.passed(f"connection from {endpoint_id} accepted", **evidence)


def service_zone_ids(ctx: VerifyContext, consumer: str, provider: str) -> list[str] | None:
    """Zone ids the provider's endpoint service spans (None when it cannot be read)."""
    if provider in ctx.topology.services:
        config = ctx.service_configuration(provider)
        return None if config is None else [str(z) for z in config.get("AvailabilityZoneIds", [])]
    name = ctx.topology.external[provider].service_name

    def fetch() -> list[str] | None:
        ec2 = ctx.client(ctx.endpoints_account(consumer), "ec2")
        details = ec2.describe_vpc_endpoint_services(ServiceNames=[name]).get("ServiceDetails")
        return [str(z) for z in details[0].get("AvailabilityZoneIds", [])] if details else None

    return ctx.memo(("external-zones", consumer, provider), fetch)


def endpoint_zone_ids(ctx: VerifyContext, consumer: str, provider: str) -> dict[str, str]:
    """The endpoint's subnets -> their zone ids, in the endpoint's account."""
    endpoint = ctx.endpoint(consumer, provider)
    if endpoint is None:
        return {}
    return ctx.subnet_zone_ids(
        ctx.endpoints_account(consumer), list(endpoint.get("SubnetIds") or [])
    )


def check_zones(ctx: VerifyContext, verdict: Verdict) -> CheckResult:
    """Every endpoint subnet's zone *id* is one the service supports (names differ per account)."""
    consumer, provider = str(verdict.subject.consumer), str(verdict.subject.provider)
    if ctx.endpoint(consumer, provider) is None:
        return verdict.skipped("no endpoint to inspect (see endpoint.available)")
    subnets = endpoint_zone_ids(ctx, consumer, provider)
    supported = service_zone_ids(ctx, consumer, provider)
    if supported is None:
        return verdict.failed(f"the endpoint service of {provider} cannot be described")
    outside = sorted({z for z in subnets.values() if z not in supported})
    evidence = {
        "endpoint_subnet_zone_ids": subnets,
        "service_zone_ids": supported,
        "uncovered_zone_ids": outside,
    }
    if not subnets:
        return verdict.failed("the endpoint has no subnet", **evidence)
    if outside:
        return verdict.failed(
            f"endpoint zones {', '.join(outside)} are not served by {provider}", **evidence
        )
    zones = ", ".join(sorted(set(subnets.values())))
    return verdict.passed(f"endpoint zones {zones} are served by {provider}", **evidence)


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "endpoint-service.principals",
        "control",
        "allowed principals are exactly the consumers' accounts",
        exposed_providers,
        check_principals,
    ),
    CheckSpec(
        "endpoint-service.unexpected-connections",
        "control",
        "no connection from an endpoint meshlink did not create",
        exposed_providers,
        check_unexpected_connections,
    ),
    CheckSpec(
        "endpoint.available",
        "control",
        "the consumer's endpoint exists, targets the provider and is available",
        all_edges,
        check_endpoint_available,
    ),
    CheckSpec(
        "endpoint.connection-accepted",
        "control",
        "the provider accepted the consumer's connection",
        internal_edges,
        check_connection_accepted,
    ),
    CheckSpec(
        "endpoint.zones",
        "control",
        "the endpoint's zone ids are served by the endpoint service",
        all_edges,
        check_zones,
    ),
)
