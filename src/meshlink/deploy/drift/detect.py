"""Find drift: per node, what is live against what should be (topology and journal).

Every read goes through verify's VerifyContext (the reads `verify` makes, cached once per
run); `prime` fills that cache with one batched describe per account first, so a no-op
`up` pays a handful of calls, not one per resource. Each detector looks at one kind of
resource and maps what it finds to the node whose stack (or step) owns it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from meshlink.deploy.drift.model import DriftReport, Finding
from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import EdgeOutputs, EndpointsOutputs, PlatformOutputs, ServiceOutputs
from meshlink.verify.context import VerifyContext, VerifyOptions, expected_principals, is_not_found

if TYPE_CHECKING:
    from meshlink.deploy.runtime import MeshRuntime

Deployed = frozenset[str]  # the node ids the journal records as done (or failed since)
Detector = Callable[[VerifyContext, Deployed], Iterator[Finding]]
# Connection states in which an endpoint can carry (or is about to carry) traffic.
LIVE_STATES = frozenset({"pendingAcceptance", "pending", "available"})
ECS_BATCH = 10  # DescribeServices takes at most 10 services per call


def detect(
    runtime: MeshRuntime, nodes: Collection[str] | None = None, ctx: VerifyContext | None = None
) -> DriftReport:
    """Every drift finding of the deployed mesh (of `nodes` only, when given); reads only,
    kept in `ctx` when given (`up` reuses them while nothing it did changed them)."""
    ctx = ctx or VerifyContext(runtime, VerifyOptions(only="control"))
    with runtime.journal.lock:
        # A node whose last up failed still has what it deployed before (an accept node
        # that found its connection rejected, a service whose update rolled back).
        deployed = frozenset(
            n for n, r in runtime.journal.records.items() if r.status in ("done", "failed")
        )
    if nodes is not None:
        deployed = deployed & frozenset(nodes)
    if not deployed:
        return DriftReport()
    # Reads are I/O: the batches, then the detectors, run side by side (verify's cache
    # is thread-safe and fetches each key once).
    with ThreadPoolExecutor(max_workers=len(DETECTORS)) as pool:
        list(pool.map(lambda step: step(ctx, deployed), PRIMERS))
        found = list(pool.map(lambda detector: list(detector(ctx, deployed)), DETECTORS))
    return DriftReport.of(f for findings in found for f in findings)


# -- batched reads into verify's cache ---------------------------------------------------


def prime(ctx: VerifyContext, deployed: Deployed) -> None:
    """One describe per account for endpoints, security groups, connections and endpoint
    services, side by side, stored under the keys VerifyContext's own reads use (a miss
    there falls back to one call). `verify` primes its checks' reads the same way."""
    with ThreadPoolExecutor(max_workers=len(PRIMERS)) as pool:
        list(pool.map(lambda step: step(ctx, deployed), PRIMERS))


def _prime_endpoints(ctx: VerifyContext, deployed: Deployed) -> None:
    edges = [(c, p) for c, p in ctx.topology.edges() if node_id("endpoints", c) in deployed]
    by_account: dict[str, dict[str, tuple[str, str]]] = {}
    for consumer, provider in edges:
        endpoint_id = ctx.endpoint_id(consumer, provider)
        if endpoint_id:
            by_account.setdefault(ctx.endpoints_account(consumer), {})[endpoint_id] = (
                consumer,
                provider,
            )
    for account, wanted in by_account.items():
        found = _batch(
            ctx, account, "describe_vpc_endpoints", "VpcEndpointIds", "VpcEndpoints", wanted
        )
        if found is not None:
            for endpoint_id, edge in wanted.items():
                live = found.get(endpoint_id)
                value = dict(live) if live and live.get("State") != "deleted" else None
                _store(ctx, ("endpoint", *edge), value)


def _store(ctx: VerifyContext, key: tuple[Any, ...], value: Any) -> None:
    """Put `value` in verify's cache (a key read before keeps its first answer)."""
    ctx.memo(key, lambda: value)


def _batch(
    ctx: VerifyContext, account: str, call: str, ids_param: str, key: str, ids: Collection[str]
) -> dict[str, dict[str, Any]] | None:
    """`call` for all `ids` at once, by id; None when one of them is gone (AWS then
    refuses the whole call: the caller's per-id reads say which)."""
    id_key = {
        "VpcEndpoints": "VpcEndpointId",
        "SecurityGroups": "GroupId",
        "ServiceConfigurations": "ServiceId",
    }[key]
    try:
        answer = getattr(ctx.client(account, "ec2"), call)(**{ids_param: sorted(ids)})
    except Exception as error:  # botocore ClientError
        if is_not_found(error):
            return None
        raise
    return {str(item[id_key]): item for item in answer.get(key, [])}


def _groups_to_read(ctx: VerifyContext, deployed: Deployed) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for consumer, provider in ctx.topology.edges():
        if node_id("endpoints", consumer) in deployed:
            group = ctx.outputs(node_id("endpoints", consumer)).get(
                EndpointsOutputs.security_group_id(provider)
            )
            if group:
                groups.setdefault(ctx.endpoints_account(consumer), set()).add(str(group))
    for service in ctx.topology.services:
        group = ctx.edge_output(service, EdgeOutputs.TASK_SECURITY_GROUP_ID)
        if group and node_id("edge", service) in deployed:
            groups.setdefault(ctx.account_of(service), set()).add(group)
    return groups


def _prime_groups(ctx: VerifyContext, deployed: Deployed) -> None:
    for account, ids in _groups_to_read(ctx, deployed).items():
        found = _batch(ctx, account, "describe_security_groups", "GroupIds", "SecurityGroups", ids)
        if found is not None:
            for group_id in ids:
                live = found.get(group_id)
                value = dict(live) if live else None
                _store(ctx, ("sg", account, group_id), value)


def _prime_connections(ctx: VerifyContext, deployed: Deployed) -> None:
    by_account: dict[str, dict[str, str]] = {}
    known = set(ctx.memo_keys())  # verify's settle step may have read them just now
    for provider in ctx.topology.services:
        service_id = ctx.service_id(provider)
        fresh = ("connections", provider) not in known
        if service_id and node_id("edge", provider) in deployed and fresh:
            by_account.setdefault(ctx.account_of(provider), {})[service_id] = provider
    for account, services in by_account.items():
        ec2 = ctx.client(account, "ec2")
        every = connections_of(ec2, list(services))
        for service_id, provider in services.items():
            mine = every.get(service_id, {})
            _store(ctx, ("connections", provider), mine)


def _prime_service_configurations(ctx: VerifyContext, deployed: Deployed) -> None:
    """Every endpoint service of an account in one describe (principals need it first)."""
    by_account: dict[str, dict[str, str]] = {}
    for provider in ctx.topology.services:
        service_id = ctx.service_id(provider)
        if service_id and node_id("edge", provider) in deployed:
            by_account.setdefault(ctx.account_of(provider), {})[service_id] = provider
    for account, services in by_account.items():
        found = _batch(
            ctx,
            account,
            "describe_vpc_endpoint_service_configurations",
            "ServiceIds",
            "ServiceConfigurations",
            services,
        )
        if found is not None:
            for service_id, provider in services.items():
                live = found.get(service_id)
                _store(ctx, ("service-config", provider), dict(live) if live else None)


PRIMERS: tuple[Callable[[VerifyContext, Deployed], None], ...] = (
    _prime_endpoints,
    _prime_groups,
    _prime_connections,
    _prime_service_configurations,
)


def connections_of(ec2: Any, service_ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Connections of several services of one account in one paginated call:
    service id -> endpoint id -> connection."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    request: dict[str, Any] = {"Filters": [{"Name": "service-id", "Values": service_ids}]}
    while True:
        page = ec2.describe_vpc_endpoint_connections(**request)
        for conn in page.get("VpcEndpointConnections", []):
            found.setdefault(str(conn["ServiceId"]), {})[str(conn["VpcEndpointId"])] = conn
        token = page.get("NextToken")
        if not token:
            return found
        request["NextToken"] = token


# -- detectors, one per kind of resource ------------------------------------------------


def principals(ctx: VerifyContext, deployed: Deployed) -> Iterator[Finding]:
    """The endpoint service allows exactly its consumers' accounts (edge node)."""
    for provider in ctx.topology.services:
        owner = node_id("edge", provider)
        if owner not in deployed or not ctx.topology.consumers_of(provider):
            continue
        allowed = ctx.principals(provider)
        if allowed is None:
            continue  # the service itself is gone: the stack check reports that
        expected = expected_principals(ctx.topology, provider)
        args = {"account": ctx.account_of(provider), "service_id": ctx.service_id(provider)}
        for principal in sorted(set(allowed) - set(expected)):
            yield Finding(
                owner,
                "principal-added",
                f"principal {principal} added",
                "call",
                {**args, "principal": principal},
            )
        for principal in sorted(set(expected) - set(allowed)):
            yield Finding(
                owner,
                "principal-missing",
                f"principal {principal} missing",
                "call",
                {**args, "principal": principal},
            )


def acceptance(ctx: VerifyContext, deployed: Deployed) -> Iterator[Finding]:
    """The endpoint service requires acceptance as the topology says (edge node).

    CloudFormation re-asserts only what its template changes, so a setting flipped by
    hand stays flipped through a redeploy of an unchanged template: one targeted
    ModifyVpcEndpointServiceConfiguration sets it back
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVpcEndpointServiceConfiguration.html).
    """
    for provider in ctx.topology.services:
        owner = node_id("edge", provider)
        if owner not in deployed or not ctx.topology.consumers_of(provider):
            continue
        config = ctx.service_configuration(provider)
        if config is None or "AcceptanceRequired" not in config:
            continue  # the service itself is gone: the stack check reports that
        live = bool(config["AcceptanceRequired"])
        want = ctx.topology.services[provider].acceptance_required
        if live != want:
            yield Finding(
                owner,
                "acceptance-required",
                f"acceptance_required {str(live).lower()}, want {str(want).lower()}",
                "call",
                {
                    "account": ctx.account_of(provider),
                    "service_id": ctx.service_id(provider),
                    "required": want,
                },
            )


def endpoints(ctx: VerifyContext, deployed: Deployed) -> Iterator[Finding]:
    """Every endpoint the journal records exists (endpoints node; CloudFormation cannot
    bring back a resource deleted behind its back: the stack is made again)."""
    for consumer, provider in ctx.topology.edges():
        owner = node_id("endpoints", consumer)
        endpoint_id = ctx.endpoint_id(consumer, provider)
        if owner in deployed and endpoint_id and ctx.endpoint(consumer, provider) is None:
            yield Finding(owner, "recreate", f"endpoint {endpoint_id} deleted", "recreate")


def endpoint_rules(ctx: VerifyContext, deployed: Deployed) -> Iterator[Finding]:
    """The endpoint's group admits the consumer's tasks on the provider port, only."""
    for consumer, provider in ctx.topology.edges():
        owner = node_id("endpoints", consumer)
        if owner not in deployed or ctx.endpoint(consumer, provider) is None:
            continue
        group = ctx.outputs(owner).get(EndpointsOutputs.security_group_id(provider))
        source = ctx.edge_output(consumer, EdgeOutputs.TASK_SECURITY_GROUP_ID)
        if group and source:
            yield from _rules(
                ctx,
                owner,
                ctx.endpoints_account(consumer),
                str(group),
                source,
                _deployed_port(ctx, provider),
            )


def task_rules(ctx: VerifyContext, deployed: Deployed) -> Iterator[Finding]:
    """The provider's task group admits only its NLB's group on its port (edge node);
    a service consumed by no one has no NLB and admits no one."""
    for service in ctx.topology.services:
        owner = node_id("edge", service)
        group = ctx.edge_output(service, EdgeOutputs.TASK_SECURITY_GROUP_ID)
        if owner not in deployed or not group:
            continue
        source = ctx.edge_output(service, EdgeOutputs.LOAD_BALANCER_SECURITY_GROUP_ID)
        yield from _rules(
            ctx, owner, ctx.account_of(service), group, source, _deployed_port(ctx, service)
        )


def _deployed_port(ctx: VerifyContext, service: str) -> int:
    """The port the deployed stacks use (the edge's Port output), not the topology's.

    Drift is what differs from what was deployed: after a port change, the rules still
    name the old port until `up` deploys the new one, and repairing them to the new port
    first would make CloudFormation's own rule a duplicate.
    """
    if service in ctx.topology.services:
        recorded = ctx.edge_output(service, EdgeOutputs.PORT)
        if recorded:
            return int(recorded)
    return ctx.topology.port_of(service)


def _rules(
    ctx: VerifyContext, owner: str, account: str, group: str, source: str | None, port: int
) -> Iterator[Finding]:
    from meshlink.verify.control_network import grants

    live = ctx.security_group(account, group)
    if live is None:
        yield Finding(owner, "recreate", f"security group {group} deleted", "recreate")
        return
    wanted = {"protocol": "tcp", "from_port": port, "to_port": port, "source_group": source}
    args = {"account": account, "group": group}
    found = grants(live)
    for grant in found:
        if source is None or grant != wanted:
            yield Finding(
                owner,
                "rule-added",
                f"rule {describe_rule(grant)} added",
                "call",
                {**args, "grant": grant},
            )
    if source is not None and wanted not in found:
        yield Finding(
            owner,
            "rule-missing",
            f"rule {describe_rule(wanted)} missing",
            "call",
            {**args, "grant": wanted},
        )


def describe_rule(grant: dict[str, Any]) -> str:
    """'tcp/8081 from sg-…', 'all from 0.0.0.0/0', 'tcp/80-90 from pl-…'."""
    protocol = "all" if grant["protocol"] == "-1" else grant["protocol"]
    low, high = grant.get("from_port"), grant.get("to_port")
    ports = (
        "" if protocol == "all" or low is None else f"/{low}" + (f"-{high}" if high != low else "")
    )
    source = grant.get("source_group") or grant.get("cidr") or grant.get("prefix_list")
    return f"{protocol}{ports} from {source}"


def connections(ctx: VerifyContext, deployed: Deployed) -> Iterator[Finding]:
    """The provider accepts exactly its consumers' endpoints (accept node)."""
    for provider in ctx.topology.services:
        owner = node_id("accept", provider)
        service_id = ctx.service_id(provider)
        if owner not in deployed or not service_id:
            continue
        expected = ctx.expected_endpoints(provider)
        live = ctx.connections(provider)
        args = {"account": ctx.account_of(provider), "service_id": service_id}
        for endpoint_id, consumer in sorted(expected.items()):
            state = live.get(endpoint_id, {}).get("VpcEndpointState")
            if state == "rejected" and ctx.endpoint(consumer, provider) is not None:
                yield Finding(
                    owner,
                    "connection-rejected",
                    f"connection from {endpoint_id} rejected",
                    "call",
                    {**args, "endpoint_id": endpoint_id},
                )
        for endpoint_id, connection in sorted(live.items()):
            if endpoint_id not in expected and connection.get("VpcEndpointState") in LIVE_STATES:
                yield Finding(
                    owner,
                    "connection-unexpected",
                    f"connection from {endpoint_id} not expected",
                    "call",
                    {**args, "endpoint_id": endpoint_id},
                )


def ecs_services(ctx: VerifyContext, deployed: Deployed) -> Iterator[Finding]:
    """The ECS service exists and wants the topology's desired count (service node)."""
    wanted: dict[tuple[str, str], dict[str, str]] = {}  # (account, cluster) -> arn -> service
    for service in ctx.topology.services:
        owner = node_id("service", service)
        arn = ctx.outputs(owner).get(ServiceOutputs.ECS_SERVICE_ARN)
        cluster = ctx.outputs(node_id("platform", ctx.account_of(service))).get(
            PlatformOutputs.CLUSTER_NAME
        )
        if owner in deployed and arn and cluster:
            wanted.setdefault((ctx.account_of(service), str(cluster)), {})[str(arn)] = service
    for (account, cluster), services in wanted.items():
        live = _describe_services(ctx, account, cluster, list(services))
        for arn, service in services.items():
            owner = node_id("service", service)
            found = live.get(arn)
            if found is None or found.get("status") != "ACTIVE":
                what = f"ECS service {arn.rsplit('/', 1)[-1]} deleted"
                yield Finding(owner, "recreate", what, "recreate")
                continue
            desired, want = found.get("desiredCount"), ctx.topology.services[service].desired_count
            scaling = ctx.topology.services[service].scaling
            if scaling is not None and scaling.min <= (desired or 0) <= scaling.max:
                continue  # auto scaling owns the desired count within its bounds
            if scaling is not None:
                want = min(max(desired or 0, scaling.min), scaling.max)
            if desired != want:
                yield Finding(
                    owner,
                    "desired-count",
                    f"desired {desired}, want {want}",
                    "call",
                    {"account": account, "cluster": cluster, "service": arn, "desired": want},
                )


def _describe_services(
    ctx: VerifyContext, account: str, cluster: str, arns: list[str]
) -> dict[str, dict[str, Any]]:
    ecs = ctx.client(account, "ecs")
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(arns), ECS_BATCH):
        answer = ecs.describe_services(cluster=cluster, services=arns[start : start + ECS_BATCH])
        for service in answer.get("services") or []:
            found[str(service["serviceArn"])] = service
    return found


def stack_resources(ctx: VerifyContext, deployed: Deployed) -> Iterator[Finding]:
    """On AWS: resources CloudFormation's drift detection finds deleted (cloudformation.py)."""
    if ctx.topology.target != "aws":
        return
    from meshlink.deploy.drift.cloudformation import deleted_resources

    yield from deleted_resources(ctx, deployed)


# In report order: what `plan` lists first for a node comes from the first detector.
DETECTORS: tuple[Detector, ...] = (
    endpoints,
    principals,
    acceptance,
    task_rules,
    endpoint_rules,
    connections,
    ecs_services,
    stack_resources,
)
