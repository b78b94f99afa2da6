"""AWS list prices per region, read from the package's prices.json (each with its source
URL and the day it was taken). A region the file does not cover has no prices: callers
say so rather than guess."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

PRICES_FILE = "prices.json"
# Every region in prices.json must give each of these (tests/unit/cost/test_prices.py).
PRICE_KEYS = (
    "nat_gateway_hour",
    "nat_gateway_gb",
    "public_ipv4_hour",
    "nlb_hour",
    "nlcu_hour",
    "interface_endpoint_az_hour",
    "interface_endpoint_gb",
    "fargate_vcpu_hour",
    "fargate_gb_hour",
    "logs_ingestion_gb",
)


@dataclass(frozen=True)
class Price:
    """One published price: dollars per unit, where it was read and when."""

    key: str
    usd: float
    unit: str
    source: str
    taken: str
    note: str = ""


@dataclass(frozen=True)
class RegionPrices:
    region: str
    prices: Mapping[str, Price]

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]

    def usd(self, key: str) -> float:
        return self.prices[key].usd

    def sources(self) -> list[str]:
        """The distinct source pages of this region's prices, sorted."""
        return sorted({price.source for price in self.prices.values()})

    def taken(self) -> str:
        """The day the prices were taken (the latest, if they differ)."""
        return max(price.taken for price in self.prices.values())


@dataclass(frozen=True)
class PriceBook:
    hours_per_month: int
    regions: Mapping[str, RegionPrices]

    def for_region(self, region: str) -> RegionPrices | None:
        return self.regions.get(region)


def parse_prices(data: Mapping[str, Any]) -> PriceBook:
    """A PriceBook from prices.json's content; a region missing a price is an error."""
    regions: dict[str, RegionPrices] = {}
    for region, table in data["regions"].items():
        missing = [key for key in PRICE_KEYS if key not in table]
        if missing:
            raise ValueError(f"{PRICES_FILE}: {region} has no {', '.join(missing)}")
        regions[region] = RegionPrices(
            region,
            {
                key: Price(
                    key,
                    float(entry["usd"]),
                    entry["unit"],
                    entry["source"],
                    entry["taken"],
                    entry.get("note", ""),
                )
                for key, entry in table.items()
            },
        )
    return PriceBook(int(data["hours_per_month"]), regions)


@cache
def price_book() -> PriceBook:
    """The prices shipped with meshlink (read once)."""
    text = resources.files("meshlink.cost").joinpath(PRICES_FILE).read_text("utf-8")
    return parse_prices(json.loads(text))
