"""What CloudFormation says is deployed for a mesh (the truth the journal follows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MESH_TAG = "meshlink:mesh"
MESH_ID_TAG = "meshlink:mesh-id"
NODE_TAG = "meshlink:node"


@dataclass(frozen=True)
class LiveStack:
    """One stack of a mesh (by name) as CloudFormation describes it."""

    name: str
    status: str
    node: str
    # The meshlink:mesh-id tag; None on stacks deployed before meshes had identities.
    mesh_id: str | None
    tags: dict[str, str] = field(default_factory=dict)


def mesh_live_stacks(cloudformation: Any, mesh: str) -> list[LiveStack]:
    """Every stack of a mesh called `mesh` this client sees, whatever its identity.

    A stack belongs to the mesh by its meshlink:mesh tag, not by its name alone: mesh
    "shop" must never take the stacks of mesh "shop-edge" (meshlink-shop-edge-...) for
    its own. Which mesh of that name (its identity) is for deploy/ownership.py to judge.
    """
    prefix = f"meshlink-{mesh}-"
    found: list[LiveStack] = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            tags = {str(t.get("Key")): str(t.get("Value")) for t in stack.get("Tags") or []}
            if stack["StackName"].startswith(prefix) and tags.get(MESH_TAG) == mesh:
                found.append(
                    LiveStack(
                        stack["StackName"],
                        stack["StackStatus"],
                        tags.get(NODE_TAG, ""),
                        tags.get(MESH_ID_TAG),
                        tags,
                    )
                )
    return found


def mesh_stack_nodes(cloudformation: Any, mesh: str) -> dict[str, tuple[str, str]]:
    """(status, graph node) of every stack of `mesh` this client sees, by stack name."""
    return {s.name: (s.status, s.node) for s in mesh_live_stacks(cloudformation, mesh)}


def mesh_stacks(cloudformation: Any, mesh: str) -> dict[str, str]:
    """Status of every stack of `mesh` this client sees, by stack name."""
    return {s.name: s.status for s in mesh_live_stacks(cloudformation, mesh)}
