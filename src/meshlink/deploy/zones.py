"""Pick the availability zones of the mesh by zone ID, so every VPC covers the same ones.

`us-east-1a` is a different physical zone in each account; `use1-az1` is the same
everywhere. A consumer can only use an endpoint in zones it shares with the service,
so meshlink places every account's subnets in the same zone IDs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from meshlink.errors import EnvironmentProblem


def available_zone_ids(ec2: Any) -> set[str]:
    """Zone IDs of the standard availability zones an account can use."""
    zones = ec2.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}]
    )["AvailabilityZones"]
    return {z["ZoneId"] for z in zones if z.get("State", "available") == "available"}


def common_zone_ids(
    accounts: Iterable[str], ec2_for: Callable[[str], Any], az_count: int
) -> list[str]:
    """The first `az_count` zone IDs (sorted) that every account offers."""
    names = list(accounts)
    per_account = {name: available_zone_ids(ec2_for(name)) for name in names}
    shared = set.intersection(*per_account.values()) if per_account else set()
    if len(shared) < az_count:
        detail = "; ".join(f"{n}: {', '.join(sorted(z))}" for n, z in per_account.items())
        raise EnvironmentProblem(
            f"the accounts share {len(shared)} availability zone ids "
            f"({', '.join(sorted(shared)) or 'none'}) but network.az_count is {az_count}",
            hint=f"lower network.az_count to {len(shared) or 1}, or enable zones ({detail})",
        )
    return sorted(shared)[:az_count]
