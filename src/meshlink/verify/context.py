"""What the checks read: the journal's outputs and live API answers, each fetched once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from meshlink.aws.errors import error_code
from meshlink.graph.planner import node_id
from meshlink.stacks.outputs import EdgeOutputs, EndpointsOutputs
from meshlink.topology.model import Topology

if TYPE_CHECKING:
    from meshlink.deadlines import Deadlines
    from meshlink.deploy.runtime import MeshRuntime

T = TypeVar("T")
Only = Literal["control", "traffic"]
# Describe calls answer these when the resource is gone (AWS and the local cloud).
NOT_FOUND_SUFFIXES = (".NotFound", ".Malformed", "NotFound", "NotFoundException")


@dataclass(frozen=True)
class VerifyOptions:
    """What the user asked for, beyond the topology."""

    only: Only | None = None
    deep: bool = False
    concurrency: int = 8  # checks and probe tasks in flight at once
    probe_timeout: float = 5.0  # the probe's own HTTP deadline, seconds
    # --probe-image: a probe task definition revision with this image, for this run only
    # (None: each account's probe task definition as `up` deployed it).
    probe_image: str | None = None
    # How long a probe task may take from RunTask to STOPPED (start-up included);
    # None: per target (Fargate needs a minute to pull and start; the local cloud waits
    # up to 30 s for endpoint names it does not know yet before starting a task).
    task_timeout: float | None = None
    # How long to wait for a mesh still converging (deployment in progress, targets in
    # their first health checks) before checking it; 0 checks at once; None: the run's
    # deadline for it (meshlink/deadlines.py: scaled to the timing, or --timeout).
    settle_timeout: float | None = None

    def task_deadline(self, deadlines: Deadlines) -> float:
        """How long a probe task may take: --task-timeout, else the run's deadline."""
        if self.task_timeout is not None:
            return self.task_timeout
        return self.probe_timeout + deadlines.seconds("probe_task")


def is_not_found(error: BaseException) -> bool:
    return error_code(error).endswith(NOT_FOUND_SUFFIXES)


def expected_principals(topology: Topology, provider: str) -> list[str]:
    """The principals the provider's endpoint service must allow: exactly its consumers."""
    return topology.allowed_principals(provider)


class VerifyContext:
    """One verify run's view of the mesh; safe to share between worker threads."""

    def __init__(self, runtime: MeshRuntime, options: VerifyOptions) -> None:
        self.runtime = runtime
        self.topology = runtime.topology
        self.options = options
        self._lock = threading.Lock()
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        # Set when the run is interrupted: probes stop their tasks instead of waiting.
        self.cancelled = threading.Event()

    # -- plumbing ---------------------------------------------------------------------

    def memo(self, key: tuple[Any, ...], fetch: Callable[[], T]) -> T:
        """`fetch()` once per key, even when several threads ask at the same time."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]  # type: ignore[no-any-return]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._memo:
                    return self._memo[key]  # type: ignore[no-any-return]
            value = fetch()
            with self._lock:
                self._memo[key] = value
            return value

    def memo_keys(self) -> list[tuple[Any, ...]]:
        """Every key fetched so far (what this run created, for example)."""
        with self._lock:
            return list(self._memo)

    def client(self, account: str, service: str) -> Any:
        """A boto3 client acting in topology account `account` (its key)."""
        return self.runtime.client(account, service)

    def outputs(self, node: str) -> dict[str, Any]:
        """The journal's outputs of graph node `node` (empty when never deployed)."""
        return dict(self.runtime.journal.get(node).outputs)

    def account_of(self, service: str) -> str:
        return self.topology.services[service].account

    def endpoints_account(self, consumer: str) -> str:
        """The account (key) that owns `consumer`'s interface endpoints and their groups:
        its own, or a shared VPC's owner."""
        return self.topology.endpoints_account(consumer)

    def network_of(self, account: str) -> dict[str, Any]:
        """The journal's outputs of the network `account`'s resources live in."""
        return self.outputs(node_id("network", self.topology.network_account(account)))

    # -- what meshlink deployed (journal) -----------------------------------------------

    def endpoint_id(self, consumer: str, provider: str) -> str | None:
        endpoints = self.outputs(node_id("endpoints", consumer))
        value = endpoints.get(EndpointsOutputs.endpoint_id(provider))
        return str(value) if value else None

    def endpoint_dns(self, consumer: str, provider: str) -> str | None:
        endpoints = self.outputs(node_id("endpoints", consumer))
        value = endpoints.get(EndpointsOutputs.endpoint_dns(provider))
        return str(value) if value else None

    def edge_output(self, service: str, key: str) -> str | None:
        value = self.outputs(node_id("edge", service)).get(key)
        return str(value) if value else None

    def service_id(self, provider: str) -> str | None:
        return self.edge_output(provider, EdgeOutputs.SERVICE_ID)

    def expected_endpoints(self, provider: str) -> dict[str, str]:
        """Endpoint ids meshlink created to `provider` -> the consumer that owns each."""
        found: dict[str, str] = {}
        for consumer in self.topology.consumers_of(provider):
            endpoint = self.endpoint_id(consumer, provider)
            if endpoint:
                found[endpoint] = consumer
        return found

    def incoming(self, provider: str) -> tuple[tuple[str, str], ...]:
        return tuple((c, provider) for c in self.topology.consumers_of(provider))

    # -- live API answers (cached) -------------------------------------------------------

    def endpoint(self, consumer: str, provider: str) -> dict[str, Any] | None:
        """The consumer's interface endpoint to `provider` as EC2 describes it, or None."""
        endpoint_id = self.endpoint_id(consumer, provider)
        if endpoint_id is None:
            return None

        def fetch() -> dict[str, Any] | None:
            ec2 = self.client(self.endpoints_account(consumer), "ec2")
            try:
                found = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
            except Exception as error:  # botocore ClientError
                if is_not_found(error):
                    return None
                raise
            live = [e for e in found if e.get("State") not in ("deleted",)]
            return dict(live[0]) if live else None

        return self.memo(("endpoint", consumer, provider), fetch)

    def service_configuration(self, provider: str) -> dict[str, Any] | None:
        """The provider's endpoint service configuration, or None when it is gone."""
        service_id = self.service_id(provider)
        if service_id is None:
            return None

        def fetch() -> dict[str, Any] | None:
            ec2 = self.client(self.account_of(provider), "ec2")
            try:
                answer = ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[service_id])
            except Exception as error:
                if is_not_found(error):
                    return None
                raise
            configs = answer.get("ServiceConfigurations") or []
            return dict(configs[0]) if configs else None

        return self.memo(("service-config", provider), fetch)

    def connections(self, provider: str) -> dict[str, dict[str, Any]]:
        """Every endpoint connection on the provider's service, by endpoint id."""
        service_id = self.service_id(provider)
        if service_id is None:
            return {}

        def fetch() -> dict[str, dict[str, Any]]:
            from meshlink.deploy.acceptance import connections

            return connections(self.client(self.account_of(provider), "ec2"), service_id)

        return self.memo(("connections", provider), fetch)

    def principals(self, provider: str) -> list[str] | None:
        """The principals the provider's endpoint service allows (sorted, once each);
        None when the service is gone. Verify's principals check and drift both read it."""
        service_id = self.service_id(provider)
        if service_id is None or self.service_configuration(provider) is None:
            return None

        def fetch() -> list[str]:
            ec2 = self.client(self.account_of(provider), "ec2")
            allowed: set[str] = set()
            request = {"ServiceId": service_id}
            while True:
                page = ec2.describe_vpc_endpoint_service_permissions(**request)
                allowed.update(str(p["Principal"]) for p in page.get("AllowedPrincipals", []))
                token = page.get("NextToken")
                if not token:
                    return sorted(allowed)
                request["NextToken"] = token

        return self.memo(("principals", provider), fetch)

    def subnet_zone_ids(self, account: str, subnet_ids: list[str]) -> dict[str, str]:
        """subnet id -> its zone id (names differ per account; ids are what is shared)."""
        wanted = tuple(sorted(subnet_ids))

        def fetch() -> dict[str, str]:
            if not wanted:
                return {}
            ec2 = self.client(account, "ec2")
            subnets = ec2.describe_subnets(SubnetIds=list(wanted))["Subnets"]
            return {s["SubnetId"]: str(s.get("AvailabilityZoneId") or "") for s in subnets}

        return self.memo(("subnets", account, wanted), fetch)

    def security_group(self, account: str, group_id: str) -> dict[str, Any] | None:
        def fetch() -> dict[str, Any] | None:
            ec2 = self.client(account, "ec2")
            try:
                groups = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
            except Exception as error:
                if is_not_found(error):
                    return None
                raise
            return dict(groups[0]) if groups else None

        return self.memo(("sg", account, group_id), fetch)
