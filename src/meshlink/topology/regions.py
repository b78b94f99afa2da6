"""Availability zones per region, to check az_count before anything is touched."""

from __future__ import annotations

# Zones a new account sees, per region (public AWS documentation, late 2025).
AZ_COUNT_BY_REGION: dict[str, int] = {
    "us-east-1": 6,
    "us-east-2": 3,
    "us-west-1": 2,
    "us-west-2": 4,
    "ca-central-1": 3,
    "ca-west-1": 3,
    "eu-west-1": 3,
    "eu-west-2": 3,
    "eu-west-3": 3,
    "eu-central-1": 3,
    "eu-central-2": 3,
    "eu-north-1": 3,
    "eu-south-1": 3,
    "eu-south-2": 3,
    "ap-northeast-1": 3,
    "ap-northeast-2": 4,
    "ap-northeast-3": 3,
    "ap-southeast-1": 3,
    "ap-southeast-2": 3,
    "ap-southeast-3": 3,
    "ap-southeast-4": 3,
    "ap-south-1": 3,
    "ap-south-2": 3,
    "ap-east-1": 3,
    "sa-east-1": 3,
    "me-south-1": 3,
    "me-central-1": 3,
    "af-south-1": 3,
    "il-central-1": 3,
}


def az_count(region: str) -> int | None:
    """How many AZs `region` offers, or None for a region meshlink does not know."""
    return AZ_COUNT_BY_REGION.get(region)
