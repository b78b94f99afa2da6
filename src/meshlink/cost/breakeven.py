"""Where NAT and AWS service endpoints cost the same: a VPC reaches ECR, CloudWatch Logs
and STS either through NAT (cheap by the hour, dear by the GB) or through interface
endpoints (the other way round). Per account and month."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshlink.cost.prices import RegionPrices
from meshlink.cost.usage import aws_service_endpoints, interface_services
from meshlink.topology.model import AWS_SERVICE_ENDPOINTS, FARGATE_ENDPOINTS, Topology


def _gb(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class BreakEven:
    """NAT gateway(s) against the AWS service endpoints, per account and month."""

    nat_label: str
    services: tuple[str, ...]
    nat_fixed_usd: float
    nat_usd_per_gb: float
    endpoints_fixed_usd: float
    endpoints_usd_per_gb: float
    traffic_gb: float

    @property
    def gb(self) -> float | None:
        """GB a month above which the endpoints cost less (None: they always do)."""
        if self.endpoints_fixed_usd <= self.nat_fixed_usd:
            return None
        return (self.endpoints_fixed_usd - self.nat_fixed_usd) / (
            self.nat_usd_per_gb - self.endpoints_usd_per_gb
        )

    def at(self, gb: float) -> tuple[float, float]:
        """(NAT, endpoints) monthly cost at `gb` a month."""
        return (
            self.nat_fixed_usd + gb * self.nat_usd_per_gb,
            self.endpoints_fixed_usd + gb * self.endpoints_usd_per_gb,
        )

    def sentence(self) -> str:
        nat, endpoints = self.at(self.traffic_gb)
        where = (
            "the endpoints cost less at any traffic"
            if self.gb is None
            else f"break-even at {self.gb:,.0f} GB a month per account"
        )
        return (
            f"NAT against endpoints: {self.nat_label} ${self.nat_fixed_usd:,.2f} + "
            f"${self.nat_usd_per_gb:g}/GB, AWS service endpoints ({', '.join(self.services)}) "
            f"${self.endpoints_fixed_usd:,.2f} + ${self.endpoints_usd_per_gb:g}/GB a month per "
            f"account; {where}; at {_gb(self.traffic_gb)} GB: NAT ${nat:,.2f}, endpoints "
            f"${endpoints:,.2f}"
        )

    def to_dict(self) -> dict[str, Any]:
        nat, endpoints = self.at(self.traffic_gb)
        return {
            "nat": self.nat_label,
            "endpoints": list(self.services),
            "nat_monthly_usd": round(nat, 4),
            "endpoints_monthly_usd": round(endpoints, 4),
            "break_even_gb": None if self.gb is None else round(self.gb, 1),
        }


def breakeven(topology: Topology, traffic_gb: float, prices: RegionPrices, hours: int) -> BreakEven:
    """One account's NAT against its AWS service endpoints, at `traffic_gb` a month."""
    options = topology.network
    # Compare with the NAT the topology asks for, or with one NAT when it asks for none.
    nats = {"none": 1, "single": 1, "per_az": options.az_count}[options.nat_gateways]
    label = "one NAT gateway" if nats == 1 else f"{nats} NAT gateways (per AZ)"
    nat_hourly = prices.usd("nat_gateway_hour") + prices.usd("public_ipv4_hour")
    # The endpoints that would replace the NAT for Fargate (ecr.api, ecr.dkr, logs), with
    # any other the topology asks for (sts).
    wanted = set(aws_service_endpoints(topology)) | set(interface_services(FARGATE_ENDPOINTS))
    services = tuple(s for s in AWS_SERVICE_ENDPOINTS if s in wanted)
    endpoints = len(services) * options.az_count
    return BreakEven(
        nat_label=label,
        services=services,
        nat_fixed_usd=nats * hours * nat_hourly,
        nat_usd_per_gb=prices.usd("nat_gateway_gb"),
        endpoints_fixed_usd=endpoints * hours * prices.usd("interface_endpoint_az_hour"),
        endpoints_usd_per_gb=prices.usd("interface_endpoint_gb"),
        traffic_gb=traffic_gb,
    )
