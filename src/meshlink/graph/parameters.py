"""Fill a stack's parameters from upstream outputs, as its template's Metadata says."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from meshlink.errors import DeployError

OutputsOf = Callable[[str], Mapping[str, Any]]
Resolver = Callable[[Mapping[str, str], OutputsOf], str]

SHARED_ZONE_SUBNETS = "shared_zone_subnets"
MESH_ZONE_IDS = "mesh_zone_ids"


def parameter_sources(template: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Metadata.meshlink.parameters of a synthesized template (see docs/CONTRACTS.md)."""
    meta = template.get("Metadata", {}).get("meshlink", {})
    sources = meta.get("parameters", {})
    return dict(sources) if isinstance(sources, dict) else {}


def upstream_nodes(template: Mapping[str, Any]) -> set[str]:
    """Graph nodes whose outputs the template reads directly."""
    return {s["node"] for s in parameter_sources(template).values() if "node" in s}


def as_parameter(value: Any) -> str:
    """Lists (network outputs) travel comma-joined, like CommaDelimitedList wants them."""
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def fill_parameters(
    template: Mapping[str, Any],
    outputs_of: OutputsOf,
    resolvers: Mapping[str, Resolver],
) -> dict[str, str]:
    """Every parameter of `template`, valued from upstream outputs or a resolver."""
    values: dict[str, str] = {}
    for name, source in parameter_sources(template).items():
        if "node" in source:
            outputs = outputs_of(source["node"])
            if source["output"] not in outputs:
                raise DeployError(
                    f"parameter {name} needs output {source['output']} of {source['node']}, "
                    "which it does not have",
                    hint=f"redeploy {source['node']} (meshlink up)",
                )
            values[name] = as_parameter(outputs[source["output"]])
        elif "resolver" in source:
            resolver = resolvers.get(source["resolver"])
            if resolver is None:
                raise DeployError(f"parameter {name}: unknown resolver {source['resolver']}")
            values[name] = resolver(source, outputs_of)
        else:
            raise DeployError(f"parameter {name} has no source in the template's Metadata")
    return values


def shared_zone_subnets(
    consumer_network: Mapping[str, Any], provider_zone_ids: set[str], *, label: str
) -> list[str]:
    """Consumer private subnets in zones (by zone id, never name) the provider serves."""
    subnets = list(consumer_network["private_subnet_ids"])
    zone_ids = list(consumer_network["az_ids"])
    chosen = [s for s, z in zip(subnets, zone_ids, strict=False) if z in provider_zone_ids]
    if not chosen:
        raise DeployError(
            f"{label}: the consumer shares no availability zone with the provider "
            f"(consumer zones {', '.join(zone_ids)}; provider zones "
            f"{', '.join(sorted(provider_zone_ids)) or 'none'})",
            hint="raise network.az_count so the VPCs cover a common zone id",
        )
    return chosen
