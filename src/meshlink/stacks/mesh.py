"""Every CDK stack of a mesh in one app, and the graph edges their parameters imply."""

from __future__ import annotations

import os

# Before aws_cdk loads: otherwise jsii prints an end-of-life banner for Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from collections.abc import Callable, Mapping
from typing import Any

from constructs import Construct

from meshlink.graph.planner import node_id
from meshlink.stacks.base import MeshStack
from meshlink.stacks.dashboard import DashboardStack
from meshlink.stacks.edge import EdgeStack
from meshlink.stacks.endpoints import EndpointsStack
from meshlink.stacks.network import NetworkStack
from meshlink.stacks.platform import PlatformStack
from meshlink.stacks.service import ServiceStack
from meshlink.topology.model import Topology


def stack_nodes(topology: Topology) -> list[str]:
    """Node ids of every CDK stack of the mesh, in an order that respects dependencies.

    A service that consumes nothing has no endpoints node (a stack needs a resource).
    `accept:<service>` nodes are not stacks and are not listed.
    """
    accounts = list(topology.accounts)
    services = list(topology.services)
    return (
        [node_id("network", a) for a in topology.network_accounts()]
        + [node_id("platform", a) for a in accounts]
        + [node_id("edge", s) for s in services]
        + [node_id("endpoints", s) for s in services if topology.services[s].consumes]
        + [node_id("service", s) for s in services]
        + ([node_id("dashboard", topology.name)] if topology.dashboard else [])
    )


def build_mesh(app: Construct, topology: Topology) -> dict[str, MeshStack]:
    """Add every stack of the mesh to `app`; the stacks by graph node id.

    Stacks never reference each other (no exports, no Fn::ImportValue): each takes its
    upstream values as parameters, traced in its Metadata, so one synthesis serves
    every deployment of the mesh.
    """
    stacks: dict[str, MeshStack] = {}
    for node in stack_nodes(topology):
        kind, subject = node.split(":", 1)
        stacks[node] = _build(app, topology, kind, subject)
    return stacks


def mesh_builder(topology: Topology) -> Callable[[Any], None]:
    """A builder for `meshlink.engines.cdk.synth.synth` that adds the whole mesh."""

    def build(app: Any) -> None:
        build_mesh(app, topology)

    return build


def _build(app: Construct, topology: Topology, kind: str, subject: str) -> MeshStack:
    if kind == "network":
        spec = topology.accounts[subject]
        return NetworkStack(
            app,
            mesh=topology.name,
            account=subject,
            account_id=spec.id,
            vpc_cidr=topology.vpc_cidr_of(subject),
            region=topology.region,
            options=topology.network,
            log_key=topology.logs.kms_key_arn,
            participants=topology.shared_with(subject),
        )
    if kind == "platform":
        return PlatformStack(app, topology, subject)
    if kind == "edge":
        return EdgeStack(app, topology, subject)
    if kind == "endpoints":
        return EndpointsStack(app, topology, subject)
    if kind == "service":
        return ServiceStack(app, topology, subject)
    if kind == "dashboard":
        return DashboardStack(app, topology)
    raise ValueError(f"no stack for node kind {kind!r}")


def _meshlink_metadata(template: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = template.get("Metadata", {}).get("meshlink")
    if not isinstance(metadata, Mapping):
        raise ValueError("template has no Metadata.meshlink: not a meshlink stack")
    return metadata


def node_of(template: Mapping[str, Any]) -> str:
    """Graph node id of a synthesized meshlink template."""
    return str(_meshlink_metadata(template)["node"])


def node_dependencies(template: Mapping[str, Any]) -> set[str]:
    """Upstream node ids whose outputs fill the template's parameters (from Metadata).

    Resolver parameters (`{"resolver": ...}`) name no node and add none: the nodes
    they read (the consumer's network, the provider's edge) are already upstream of
    every stack that declares one.
    """
    sources = _meshlink_metadata(template).get("parameters", {})
    return {str(source["node"]) for source in sources.values() if "node" in source}
