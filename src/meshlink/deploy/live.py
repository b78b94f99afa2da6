"""What CloudFormation says is deployed for a mesh (the truth the journal follows)."""

from __future__ import annotations

from typing import Any


def mesh_stacks(cloudformation: Any, mesh: str) -> dict[str, str]:
    """Status of every stack of `mesh` visible to this client, by name (one paginated call)."""
    prefix = f"meshlink-{mesh}-"
    found: dict[str, str] = {}
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            if stack["StackName"].startswith(prefix):
                found[stack["StackName"]] = stack["StackStatus"]
    return found
