"""The data plane's view of the world: plain, immutable values copied out of moto.

The reconciler builds a new :class:`World` after every change and swaps it in with
one assignment; the proxy threads read whichever world is current without locks.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

EniKind = Literal["task", "nlb", "endpoint"]
Network = ipaddress.IPv4Network


@dataclass(frozen=True)
class Rule:
    """One ingress rule of a security group (TCP or all traffic)."""

    protocol: str  # "tcp", "-1" (all), "udp", ...
    from_port: int | None
    to_port: int | None
    cidrs: tuple[Network, ...] = ()
    groups: tuple[str, ...] = ()

    def covers_port(self, port: int) -> bool:
        if self.protocol == "-1":
            return True
        if self.protocol != "tcp":
            return False
        low = -1 if self.from_port is None else self.from_port
        high = 65536 if self.to_port is None else self.to_port
        return low <= port <= high


@dataclass(frozen=True)
class Eni:
    """A network interface on loopback: where connections enter and who sent them."""

    id: str
    kind: EniKind
    address: str
    account: str
    region: str
    vpc_id: str
    groups: tuple[str, ...]
    # The VPC-side networks this ENI sits in (its subnets): matched against CIDR rules,
    # because security groups speak VPC CIDRs while the data plane speaks 127.x.
    networks: tuple[Network, ...]
    owner: str  # task ARN, load balancer ARN or VPC endpoint id


@dataclass(frozen=True)
class Target:
    """A registered target of a target group."""

    address: str
    port: int


@dataclass(frozen=True)
class HealthCheck:
    """How a target group checks its targets."""

    protocol: str  # TCP | HTTP | HTTPS
    port: int | None  # None: the traffic port
    path: str
    matcher: str  # e.g. "200", "200-399", "200,204"
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    account: str
    region: str
    targets: tuple[Target, ...]
    health: HealthCheck
    load_balancers: tuple[str, ...]  # ARNs of the NLBs that forward to it


@dataclass(frozen=True)
class LoadBalancer:
    """A network load balancer: its ENI and, per listener port, the target groups."""

    arn: str
    eni: Eni
    dns_name: str
    listeners: dict[int, tuple[str, ...]]  # port -> target group ARNs
    # Whether its security groups also judge PrivateLink traffic (AWS's default: on).
    enforce_on_privatelink: bool


@dataclass(frozen=True)
class Endpoint:
    """An available interface endpoint: its ENIs and the NLBs of its service."""

    id: str
    enis: tuple[Eni, ...]
    load_balancers: tuple[str, ...]  # ARNs of the provider's NLBs
    ports: tuple[int, ...]
    serves_at: float = 0.0  # monotonic: refuses connections before (--timing aws)


@dataclass(frozen=True)
class TaskNet:
    """Where a task really listens (private backend address) behind its ENI."""

    task_arn: str
    eni: Eni | None
    backend: str
    ports: tuple[int, ...]


@dataclass(frozen=True)
class World:
    """Everything the proxies need, by address."""

    enis: dict[str, Eni] = field(default_factory=dict)
    groups: dict[str, tuple[Rule, ...]] = field(default_factory=dict)  # SG id -> ingress
    default_groups: dict[str, str] = field(default_factory=dict)  # VPC id -> default SG id
    tasks: dict[str, TaskNet] = field(default_factory=dict)  # ENI address -> task
    load_balancers: dict[str, LoadBalancer] = field(default_factory=dict)  # ARN -> NLB
    target_groups: dict[str, TargetGroup] = field(default_factory=dict)  # ARN -> TG
    endpoints: dict[str, Endpoint] = field(default_factory=dict)  # ENI address -> endpoint
    dns: dict[str, str] = field(default_factory=dict)  # lower-case name -> address
    host_access: bool = True  # may the host (127.0.0.1, ...) connect to any ENI?

    def load_balancer_by_address(self, address: str) -> LoadBalancer | None:
        for lb in self.load_balancers.values():
            if lb.eni.address == address:
                return lb
        return None
