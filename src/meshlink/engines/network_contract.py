"""The outputs every network engine must produce for an account, identically."""

from __future__ import annotations

NETWORK_OUTPUTS: tuple[str, ...] = (
    "vpc_id",
    "vpc_cidr",
    "azs",
    "az_ids",
    "public_subnet_ids",
    "private_subnet_ids",
    "isolated_subnet_ids",
    "private_route_table_ids",
)
# Outputs that are lists; CloudFormation carries them comma-joined, Terraform as lists.
LIST_OUTPUTS: frozenset[str] = frozenset(NETWORK_OUTPUTS) - {"vpc_id", "vpc_cidr"}

NetworkOutputs = dict[str, str | list[str]]


def normalise(raw: dict[str, object]) -> NetworkOutputs:
    """Turn either engine's raw outputs into the contract's shape (lists as lists)."""
    result: NetworkOutputs = {}
    for name in NETWORK_OUTPUTS:
        value = raw[name]
        if name in LIST_OUTPUTS:
            if isinstance(value, str):
                result[name] = [item for item in value.split(",") if item]
            else:
                result[name] = [str(item) for item in value]  # type: ignore[attr-defined]
        else:
            result[name] = str(value)
    return result
