"""The outputs every network engine must produce for an account, identically."""

from __future__ import annotations

from collections.abc import Mapping

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


def subnet_share_name(mesh: str, account: str) -> str:
    """Name of the AWS RAM resource share of a shared network's private subnets (both
    engines; participants find its invitation by it)."""
    return f"{mesh}-{account}-subnets"


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


def output_name(contract_name: str) -> str:
    """CloudFormation output name of a contract output: vpc_id -> VpcId."""
    return "".join(word.capitalize() for word in contract_name.split("_"))


# Contract output -> the CDK network stack's output name (free of aws_cdk: a no-op `up`
# reads a deployed network's outputs without loading CDK).
OUTPUT_NAMES: dict[str, str] = {name: output_name(name) for name in NETWORK_OUTPUTS}


def contract_outputs(stack_outputs: Mapping[str, str]) -> NetworkOutputs:
    """The network contract (snake_case, lists as lists) from the stack's outputs."""
    missing = [camel for camel in OUTPUT_NAMES.values() if camel not in stack_outputs]
    if missing:
        raise KeyError(f"network stack outputs lack {', '.join(missing)}")
    return normalise({name: stack_outputs[camel] for name, camel in OUTPUT_NAMES.items()})
