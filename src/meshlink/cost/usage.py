"""What meshlink deploys in each account, counted from the topology the way the stacks
build it (stacks/network.py, stacks/edge.py, stacks/endpoints.py, stacks/service.py).

Cost (cost/estimate.py) and quotas (quotas/check.py) both count from here, so the two
never disagree about how many NLBs or endpoints a mesh has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from meshlink.topology.model import FARGATE_ENDPOINTS, NetworkOptions, Service, Topology

# AWS services reached through a gateway endpoint: route-table entries that AWS does not
# charge for and that count under no interface-endpoint quota (stacks/network.py).
GATEWAY_SERVICES = frozenset({"s3"})


def nat_gateway_count(options: NetworkOptions) -> int:
    """NAT gateways per VPC, as stacks/network.py::_nat_gateways makes them."""
    return {"none": 0, "single": 1, "per_az": options.az_count}[options.nat_gateways]


def interface_services(services: tuple[str, ...]) -> tuple[str, ...]:
    """The interface endpoints among AWS service endpoints (s3 is a gateway)."""
    return tuple(service for service in services if service not in GATEWAY_SERVICES)


def aws_service_endpoints(topology: Topology) -> tuple[str, ...]:
    """The AWS service interface endpoints each VPC gets (network.aws_service_endpoints;
    unset, ecr.api, ecr.dkr and logs when the VPC has no NAT)."""
    return interface_services(topology.network.service_endpoints())


def aws_traffic_through_endpoints(options: NetworkOptions) -> bool:
    """Whether a VPC's traffic to AWS (image pulls, logs) goes through its AWS service
    endpoints rather than its NAT: always when it has no NAT; with NAT only when the
    endpoints cover what a Fargate task uses (ecr.api, ecr.dkr, logs and the s3 gateway),
    since private DNS sends only those services' calls to them (sts alone leaves the image
    pulls and logs on the NAT)."""
    endpoints = options.service_endpoints()
    if not interface_services(endpoints):
        return False
    return options.nat_gateways == "none" or set(FARGATE_ENDPOINTS) <= set(endpoints)


@dataclass(frozen=True)
class Tasks:
    """Fargate tasks of an account at one count per service, and their vCPUs and GB."""

    count: int
    vcpus: float
    memory_gb: float


def _tasks(specs: list[Service], count_of: Callable[[Service], int]) -> Tasks:
    return Tasks(
        count=sum(count_of(spec) for spec in specs),
        vcpus=sum(count_of(spec) * spec.cpu / 1024 for spec in specs),
        memory_gb=sum(count_of(spec) * spec.memory / 1024 for spec in specs),
    )


def _fewest(spec: Service) -> int:
    return spec.desired_count if spec.scaling is None else spec.scaling.min


def _most(spec: Service) -> int:
    return spec.desired_count if spec.scaling is None else spec.scaling.max


@dataclass(frozen=True)
class AccountUsage:
    """One account's billable resources, as meshlink deploys them."""

    account: str
    azs: int
    nat_gateways: int
    # Services of this account that someone consumes: each gets an NLB, a listener and
    # an endpoint service (an unconsumed service gets none: stacks/edge.py).
    exposed: tuple[str, ...]
    # Edges that end at this account's services: each crosses one of its NLBs.
    consumer_edges: int
    # (consumer, peer): one interface endpoint in this VPC per consumed service.
    endpoints: tuple[tuple[str, str], ...]
    aws_endpoints: tuple[str, ...]
    # True: the account's traffic to AWS goes through aws_endpoints, not through its NAT.
    aws_traffic_via_endpoints: bool
    # Tasks at each service's desired_count (what the stacks deploy and the cost assumes),
    # and the same at the fewest and most tasks auto scaling may run (scaling.min/.max;
    # desired_count for a service without scaling).
    tasks: int
    vcpus: float
    memory_gb: float
    flow_logs: bool
    fewest: Tasks | None = None
    most: Tasks | None = None

    @property
    def scales(self) -> bool:
        """True when auto scaling may run another task count than the desired one."""
        return self.fewest is not None and self.most is not None and self.fewest != self.most

    def at(self, bound: Literal["fewest", "most"]) -> AccountUsage:
        """This usage with the task count auto scaling runs at its `bound`."""
        tasks = self.fewest if bound == "fewest" else self.most
        if tasks is None:
            return self
        return replace(self, tasks=tasks.count, vcpus=tasks.vcpus, memory_gb=tasks.memory_gb)

    @property
    def interface_endpoints(self) -> int:
        """Interface endpoints in this account's VPC (mesh peers and AWS services)."""
        return len(self.endpoints) + len(self.aws_endpoints)


def account_usage(topology: Topology, account: str) -> AccountUsage:
    services = topology.services_in(account)
    specs = [topology.services[name] for name in services]
    desired = _tasks(specs, lambda spec: spec.desired_count)
    # With a shared network, only its owner has a VPC (NAT, AWS service endpoints, flow
    # logs) and it creates every consumer's interface endpoints (docs/ARCHITECTURE.md §3b).
    owns_vpc = topology.network_account(account) == account
    return AccountUsage(
        account=account,
        azs=topology.network.az_count,
        nat_gateways=nat_gateway_count(topology.network) if owns_vpc else 0,
        exposed=tuple(name for name in services if topology.consumers_of(name)),
        consumer_edges=sum(len(topology.consumers_of(name)) for name in services),
        endpoints=tuple(
            (name, peer)
            for name, spec in topology.services.items()
            if topology.endpoints_account(name) == account
            for peer in spec.consumes
        ),
        aws_endpoints=aws_service_endpoints(topology) if owns_vpc else (),
        aws_traffic_via_endpoints=aws_traffic_through_endpoints(topology.network),
        tasks=desired.count,
        vcpus=desired.vcpus,
        memory_gb=desired.memory_gb,
        flow_logs=topology.network.flow_logs and owns_vpc,
        fewest=_tasks(specs, _fewest),
        most=_tasks(specs, _most),
    )


def mesh_usage(topology: Topology) -> list[AccountUsage]:
    """Every account's usage, in file order."""
    return [account_usage(topology, account) for account in topology.accounts]
