"""What CloudFormation says is deployed for a mesh (the truth the journal follows)."""

from __future__ import annotations

from typing import Any


def mesh_stack_nodes(cloudformation: Any, mesh: str) -> dict[str, tuple[str, str]]:
    """(status, graph node) of every stack of `mesh` this client sees, by stack name.

    A stack belongs to the mesh by its meshlink:mesh tag, not by its name alone: mesh
    "shop" must never take the stacks of mesh "shop-edge" (meshlink-shop-edge-...) for
    its own.
    """
    prefix = f"meshlink-{mesh}-"
    found: dict[str, tuple[str, str]] = {}
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            tags = {t.get("Key"): t.get("Value") for t in stack.get("Tags") or []}
            if stack["StackName"].startswith(prefix) and tags.get("meshlink:mesh") == mesh:
                found[stack["StackName"]] = (stack["StackStatus"], tags.get("meshlink:node", ""))
    return found


def mesh_stacks(cloudformation: Any, mesh: str) -> dict[str, str]:
    """Status of every stack of `mesh` this client sees, by stack name."""
    return {name: status for name, (status, _) in mesh_stack_nodes(cloudformation, mesh).items()}
