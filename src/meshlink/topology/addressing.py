"""How a VPC CIDR is carved into subnets: one plan shared by every network engine."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

TIERS = ("public", "private", "isolated")
SMALLEST_SUBNET_PREFIX = 28  # AWS refuses subnets smaller than /28


def subnet_newbits(az_count: int) -> int:
    """Extra prefix bits so that every tier gets one subnet per AZ."""
    return max(1, math.ceil(math.log2(len(TIERS) * az_count)))


def largest_vpc_prefix(az_count: int) -> int:
    """The smallest VPC (largest prefix) that still fits every subnet of the plan."""
    return SMALLEST_SUBNET_PREFIX - subnet_newbits(az_count)


@dataclass(frozen=True)
class SubnetPlan:
    """Subnet CIDRs per tier, in AZ order; index = tier_index * az_count + az_index."""

    newbits: int
    public: tuple[str, ...]
    private: tuple[str, ...]
    isolated: tuple[str, ...]

    def tier(self, name: str) -> tuple[str, ...]:
        return {"public": self.public, "private": self.private, "isolated": self.isolated}[name]


def plan_subnets(vpc_cidr: str, az_count: int) -> SubnetPlan:
    """Carve `vpc_cidr` like Terraform's cidrsubnet(vpc_cidr, newbits, index) would."""
    network = ipaddress.IPv4Network(vpc_cidr)
    newbits = subnet_newbits(az_count)
    subnets = list(network.subnets(prefixlen_diff=newbits))
    per_tier = [
        tuple(str(subnets[tier * az_count + az]) for az in range(az_count))
        for tier in range(len(TIERS))
    ]
    return SubnetPlan(newbits, per_tier[0], per_tier[1], per_tier[2])
