"""What node handlers answer: a node's plan, its drift, and the statuses they judge by."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from meshlink.graph.planner import Node
from meshlink.topology.model import Topology

# CloudFormation statuses of a stack that is what its last operation asked for.
HEALTHY = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
# What status shows for a network that lives in Terraform state (no stack status).
APPLIED = "APPLIED"

Progress = Callable[[str], None]
Action = Literal["create", "update", "replace", "unchanged", "reconcile", "delete", "repair"]
Edge = tuple[str, str]  # (consumer, provider)


@dataclass(frozen=True)
class PropertyDiff:
    """One property of a resource that an update changes (a change set's Details[])."""

    name: str
    requires_recreation: str | None = None  # Always | Conditionally | Never
    source: str | None = None  # DirectModification | ParameterReference | ResourceReference
    causing_entity: str | None = None
    before: str | None = None
    after: str | None = None
    # For list values (AllowedPrincipals, SubnetIds...): the items that come and go.
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    action: str  # Add | Modify | Remove
    logical_id: str
    resource_type: str
    replacement: str | None = None  # True | False | Conditional (Modify only)
    properties: list[PropertyDiff] = field(default_factory=list)
    # Why the resource is replaced: the properties that require recreation.
    replaced_by: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NodePlan:
    node: str
    action: Action
    detail: str = ""
    changes: list[Change] = field(default_factory=list)
    # What of the node is live but not as it should be (deploy/drift): `up` repairs it.
    drift: list[str] = field(default_factory=list)
    # What `up` will leave as the node's outputs, as far as known before it runs: None
    # when unknown until applied (a new stack), else the outputs with the keys whose
    # value changes left out (see deploy/handlers/outlook.py). Not part of plan --json.
    outputs: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    changing: frozenset[str] = field(default=frozenset(), compare=False, repr=False)


@dataclass(frozen=True)
class Drift:
    """How a node's live state differs from what the journal says about it."""

    node: str
    stack: str | None  # the CloudFormation stack; None when the node is not one
    live: str | None  # stack status, APPLIED for Terraform state; None when absent
    journal: str  # the journal's status of the node
    differences: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        return bool(self.differences)


def differences(journal: str, live: str | None, *, what: str) -> tuple[str, ...]:
    """What disagrees between the journal's status and the live status of `what`."""
    found: list[str] = []
    if journal == "done" and live is None:
        found.append(f"{what} is absent but the journal says done")
    if live is not None and live != APPLIED and live not in HEALTHY:
        found.append(f"{what} is {live}")
    if journal != "done" and (live == APPLIED or live in HEALTHY):
        found.append(f"{what} is deployed but the journal says {journal}")
    return tuple(found)


# Which edges a node's health decides, by what the node is to them.
EdgeSelector = Callable[[Topology, Node], tuple[Edge, ...]]


def account_edges(topology: Topology, node: Node) -> tuple[Edge, ...]:
    """Edges with a side running in the node's account (network, platform)."""
    here = set(topology.services_in(node.account))
    return tuple(e for e in topology.edges() if e[0] in here or e[1] in here)


def consumer_edges(topology: Topology, node: Node) -> tuple[Edge, ...]:
    """Edges the node's service consumes (its endpoints)."""
    return tuple(e for e in topology.edges() if e[0] == node.subject)


def no_edges(topology: Topology, node: Node) -> tuple[Edge, ...]:
    """No edge's traffic depends on the node (the dashboard)."""
    return ()


def provider_edges(topology: Topology, node: Node) -> tuple[Edge, ...]:
    """Edges the node's service provides (edge, accept, service)."""
    return tuple(e for e in topology.edges() if e[1] == node.subject)
