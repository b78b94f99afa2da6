"""What a mesh costs per month and per hour: line items per account, per edge, and the
break-even of NAT against AWS service endpoints.

Quantities are per month of `hours_per_month` (730) hours: an interface endpoint in 2
AZs is 1,460 AZ-hours. Traffic is an assumption (`--traffic`), stated with the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshlink.cost.breakeven import BreakEven, breakeven
from meshlink.cost.prices import PriceBook, RegionPrices, price_book
from meshlink.cost.usage import AccountUsage, mesh_usage
from meshlink.topology.model import Topology

DEFAULT_TRAFFIC_GB = 10.0
# An NLB's TCP capacity unit covers 1 GB processed per hour (or 800 new connections per
# second, or 100,000 active ones); a mesh's calls are bytes-bound, so 1 NLCU-hour per GB.
# https://aws.amazon.com/elasticloadbalancing/pricing/
GB_PER_NLCU_HOUR = 1.0


@dataclass(frozen=True)
class Assumptions:
    """What cannot be read from the topology; each is printed with the estimate."""

    # GB a month on each edge (consumer to provider and back), and GB a month each
    # account sends to AWS services and the internet (image pulls, logs, AWS APIs)
    # through its NAT gateway, or through its AWS service endpoints when it has no NAT.
    traffic_gb: float = DEFAULT_TRAFFIC_GB
    log_gb_per_task: float = 1.0  # application logs a task ships to CloudWatch a month
    flow_log_gb_per_vpc: float = 1.0  # VPC flow log records a month (network.flow_logs)

    def lines(self) -> list[str]:
        return [
            f"traffic: {_gb(self.traffic_gb)} GB a month on each edge, and {_gb(self.traffic_gb)} "
            "GB a month per account to AWS and the internet (NAT, or the AWS service endpoints "
            "without NAT) — set with --traffic",
            f"NLB capacity: {GB_PER_NLCU_HOUR:g} NLCU-hour per GB processed (bytes-bound traffic)",
            f"logs: {_gb(self.log_gb_per_task)} GB a month per task, "
            f"{_gb(self.flow_log_gb_per_vpc)} GB of flow logs per VPC",
            "tasks: each service's desired_count (a service with scaling may run from its "
            "scaling.min to its scaling.max: the range is given beside the Fargate and log items)",
        ]


def _gb(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class CostItem:
    """One line of the bill: `quantity` `unit`s a month at `unit_usd` each."""

    account: str
    kind: str
    quantity: float
    unit: str
    unit_usd: float
    monthly_usd: float
    detail: str
    # (fewest, most) tasks auto scaling may run: the item's monthly cost at each; None when
    # the count cannot move (no scaling in the account, or an item that does not scale).
    monthly_usd_range: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "account": self.account,
            "kind": self.kind,
            "quantity": round(self.quantity, 4),
            "unit": self.unit,
            "unit_usd": self.unit_usd,
            "monthly_usd": round(self.monthly_usd, 4),
            "detail": self.detail,
        }
        if self.monthly_usd_range is not None:
            data["monthly_usd_range"] = [round(usd, 4) for usd in self.monthly_usd_range]
        return data


# kind -> (price key, quantity a month, what it is). Tables over chains: a new billable
# resource is one row here (and its price in prices.json).
Quantity = Callable[[AccountUsage, Assumptions, int], float]
Describe = Callable[[AccountUsage, Assumptions], str]
KINDS: dict[str, tuple[str, Quantity, Describe]] = {
    "nat_gateway": (
        "nat_gateway_hour",
        lambda u, a, h: u.nat_gateways * h,
        lambda u, a: f"{u.nat_gateways} NAT gateway(s), every hour",
    ),
    "nat_gateway_data": (
        "nat_gateway_gb",
        # With AWS service endpoints that cover Fargate's needs (private DNS), the AWS
        # traffic goes through them instead (usage.py::aws_traffic_through_endpoints).
        lambda u, a, h: a.traffic_gb if u.nat_gateways and not u.aws_traffic_via_endpoints else 0.0,
        lambda u, a: "GB processed by NAT (assumed)",
    ),
    "public_ipv4": (
        "public_ipv4_hour",
        lambda u, a, h: u.nat_gateways * h,
        lambda u, a: f"{u.nat_gateways} Elastic IP(s) of the NAT gateway(s)",
    ),
    "nlb": (
        "nlb_hour",
        lambda u, a, h: len(u.exposed) * h,
        lambda u, a: f"{len(u.exposed)} NLB(s), one per consumed service",
    ),
    "nlb_capacity": (
        "nlcu_hour",
        lambda u, a, h: _nlb_gb(u, a) / GB_PER_NLCU_HOUR,
        lambda u, a: "NLCU-hours for the GB the NLBs carry (assumed)",
    ),
    "interface_endpoint": (
        "interface_endpoint_az_hour",
        lambda u, a, h: len(u.endpoints) * u.azs * h,
        lambda u, a: f"{len(u.endpoints)} endpoint(s) to mesh peers x {u.azs} AZs",
    ),
    "interface_endpoint_data": (
        "interface_endpoint_gb",
        lambda u, a, h: len(u.endpoints) * a.traffic_gb,
        lambda u, a: "GB processed by the endpoints to peers (assumed)",
    ),
    "aws_service_endpoint": (
        "interface_endpoint_az_hour",
        lambda u, a, h: len(u.aws_endpoints) * u.azs * h,
        lambda u, a: f"{', '.join(u.aws_endpoints)} x {u.azs} AZs",
    ),
    "aws_service_endpoint_data": (
        "interface_endpoint_gb",
        lambda u, a, h: a.traffic_gb if u.aws_traffic_via_endpoints else 0.0,
        lambda u, a: "GB to AWS services through the endpoints (assumed)",
    ),
    "fargate_vcpu": (
        "fargate_vcpu_hour",
        lambda u, a, h: u.vcpus * h,
        lambda u, a: f"{u.tasks} task(s) at desired_count, {u.vcpus:g} vCPU in all",
    ),
    "fargate_memory": (
        "fargate_gb_hour",
        lambda u, a, h: u.memory_gb * h,
        lambda u, a: f"{u.tasks} task(s) at desired_count, {u.memory_gb:g} GB in all",
    ),
    "logs_ingestion": (
        "logs_ingestion_gb",
        lambda u, a, h: u.tasks * a.log_gb_per_task,
        lambda u, a: f"task logs of {u.tasks} task(s) (assumed)",
    ),
    "flow_logs_ingestion": (
        "logs_ingestion_gb",
        lambda u, a, h: a.flow_log_gb_per_vpc if u.flow_logs else 0.0,
        lambda u, a: "VPC flow logs (assumed)",
    ),
}


# Kinds whose quantity follows the task count, which auto scaling moves (services.scaling).
SCALED_KINDS = frozenset({"fargate_vcpu", "fargate_memory", "logs_ingestion"})


def _nlb_gb(usage: AccountUsage, assumptions: Assumptions) -> float:
    """GB a month through this account's NLBs: every consumer's edge to each."""
    return usage.consumer_edges * assumptions.traffic_gb


@dataclass(frozen=True)
class EdgeCost:
    """What one consumer -> provider edge adds: its endpoint, and its share of the NLB."""

    consumer: str
    provider: str
    monthly_usd: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "provider": self.provider,
            "monthly_usd": round(self.monthly_usd, 4),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CostEstimate:
    region: str
    assumptions: Assumptions
    prices: RegionPrices | None
    hours_per_month: int
    items: list[CostItem] = field(default_factory=list)
    edges: list[EdgeCost] = field(default_factory=list)
    breakeven: BreakEven | None = None

    @property
    def priced(self) -> bool:
        return self.prices is not None

    @property
    def monthly_usd(self) -> float:
        return sum(item.monthly_usd for item in self.items)

    @property
    def hourly_usd(self) -> float:
        return self.monthly_usd / self.hours_per_month

    @property
    def monthly_usd_range(self) -> tuple[float, float]:
        """The monthly total at the fewest and the most tasks auto scaling may run."""
        low = high = 0.0
        for item in self.items:
            item_low, item_high = item.monthly_usd_range or (item.monthly_usd, item.monthly_usd)
            low, high = low + item_low, high + item_high
        return low, high

    def by_account(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for item in self.items:
            totals[item.account] = totals.get(item.account, 0.0) + item.monthly_usd
        return totals

    def edge(self, consumer: str, provider: str) -> EdgeCost | None:
        return next(
            (e for e in self.edges if (e.consumer, e.provider) == (consumer, provider)), None
        )

    def no_price(self) -> str:
        return f"no price for {self.region}: prices.json covers {', '.join(_regions())}"

    def to_dict(self) -> dict[str, Any]:
        if self.prices is None:
            return {
                "region": self.region,
                "priced": False,
                "message": self.no_price(),
                "monthly_usd": None,
                "hourly_usd": None,
                "items": [],
            }
        return {
            "region": self.region,
            "priced": True,
            "monthly_usd": round(self.monthly_usd, 2),
            "hourly_usd": round(self.hourly_usd, 4),
            "hours_per_month": self.hours_per_month,
            "monthly_usd_range": [round(usd, 2) for usd in self.monthly_usd_range],
            "accounts": {a: round(usd, 2) for a, usd in self.by_account().items()},
            "accounts_hourly_usd": {
                a: round(usd / self.hours_per_month, 4) for a, usd in self.by_account().items()
            },
            "items": [item.to_dict() for item in self.items],
            "edges": [edge.to_dict() for edge in self.edges],
            "breakeven": None if self.breakeven is None else self.breakeven.to_dict(),
            "assumptions": {
                "traffic_gb": self.assumptions.traffic_gb,
                "log_gb_per_task": self.assumptions.log_gb_per_task,
                "flow_log_gb_per_vpc": self.assumptions.flow_log_gb_per_vpc,
                "gb_per_nlcu_hour": GB_PER_NLCU_HOUR,
            },
            "prices": {"taken": self.prices.taken(), "sources": self.prices.sources()},
        }


def _regions() -> list[str]:
    return sorted(price_book().regions)


def estimate(
    topology: Topology,
    assumptions: Assumptions | None = None,
    book: PriceBook | None = None,
) -> CostEstimate:
    """The mesh's monthly bill as meshlink would deploy it (no price: `priced` False)."""
    assumptions = assumptions or Assumptions()
    book = book or price_book()
    prices = book.for_region(topology.region)
    hours = book.hours_per_month
    if prices is None:
        return CostEstimate(topology.region, assumptions, None, hours)
    items = [
        item for usage in mesh_usage(topology) for item in _items(usage, assumptions, prices, hours)
    ]
    return CostEstimate(
        topology.region,
        assumptions,
        prices,
        hours,
        items,
        _edge_costs(topology, assumptions, prices, hours),
        breakeven(topology, assumptions.traffic_gb, prices, hours),
    )


def _items(
    usage: AccountUsage, assumptions: Assumptions, prices: RegionPrices, hours: int
) -> list[CostItem]:
    items = []
    for kind, (key, quantity_of, describe) in KINDS.items():
        quantity = quantity_of(usage, assumptions, hours)
        price = prices[key]
        bounds = None
        if kind in SCALED_KINDS and usage.scales:
            low, high = (
                quantity_of(usage.at(bound), assumptions, hours) * price.usd
                for bound in ("fewest", "most")
            )
            bounds = (low, high)
        if quantity <= 0 and (bounds is None or bounds[1] <= 0):
            continue
        detail = describe(usage, assumptions)
        if bounds is not None:
            detail += f"; auto scaling: {_money(bounds[0])} to {_money(bounds[1])}"
        items.append(
            CostItem(
                usage.account,
                kind,
                quantity,
                price.unit,
                price.usd,
                quantity * price.usd,
                detail,
                bounds,
            )
        )
    return items


def _money(usd: float) -> str:
    return f"${usd:,.2f}"


def _edge_costs(
    topology: Topology, assumptions: Assumptions, prices: RegionPrices, hours: int
) -> list[EdgeCost]:
    azs = topology.network.az_count
    traffic = assumptions.traffic_gb
    costs = []
    for consumer, provider in topology.edges():
        endpoint = azs * hours * prices.usd("interface_endpoint_az_hour")
        data = traffic * prices.usd("interface_endpoint_gb")
        parts = [f"endpoint ${endpoint:,.2f} ({azs} AZs)", f"endpoint data ${data:,.2f}"]
        total = endpoint + data
        if provider in topology.services:
            sharing = len(topology.consumers_of(provider))
            nlb = hours * prices.usd("nlb_hour") / sharing
            capacity = traffic / GB_PER_NLCU_HOUR * prices.usd("nlcu_hour")
            share = "" if sharing == 1 else f" (1/{sharing} of it)"
            parts += [f"NLB ${nlb:,.2f}{share}", f"NLB capacity ${capacity:,.2f}"]
            total += nlb + capacity
        costs.append(EdgeCost(consumer, provider, total, ", ".join(parts)))
    return costs
