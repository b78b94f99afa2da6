"""How a mesh's identity (mesh_id, or its name) is shown to people."""

from __future__ import annotations

from meshlink.topology.model import Topology


def describe_identity(identity: str | None) -> str:
    """An identity (Topology.identity, or a stack's meshlink:mesh-id tag) as people read it."""
    if identity is None:
        return "no mesh id"
    if identity.startswith("name:"):
        return "no mesh_id (identity from its name)"
    return f"mesh_id {identity}"


def identity_note(topology: Topology) -> str | None:
    """What `validate` and `up` say about a topology without a mesh_id, else None."""
    if topology.mesh_id is not None:
        return None
    return (
        f"note: mesh {topology.name} has no mesh_id, so its identity is its name: another "
        "project with that name in these accounts would be the same mesh. `meshlink init` "
        'writes a unique one; or add e.g. mesh_id: "3f9c2a7be41d05c8" (keep it once deployed)'
    )
