"""Which stacks of a mesh's name are its own (deploy/ownership.py), with canned clients.

The same refusal and adoption run for real on the local cloud in
tests/functional/test_mesh_identity.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.deploy.ownership import ForeignStacks, ensure_owned, find_foreign
from meshlink.deploy.runtime import MeshRuntime, RunOptions
from meshlink.errors import EXIT_ENVIRONMENT
from meshlink.topology.identity import identity_note
from meshlink.topology.model import Topology
from tests.unit.verify.fakes import FakeSessions, topology

MINE = "0123456789abcdef"
THEIRS = "fedcba9876543210"


class Listing:
    """A CloudFormation client that only lists stacks (what deploy.live reads)."""

    def __init__(self, stacks: list[tuple[str, str, dict[str, str]]]) -> None:
        self.stacks = [
            {
                "StackName": name,
                "StackStatus": status,
                "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
            }
            for name, status, tags in stacks
        ]

    def get_paginator(self, operation: str) -> Any:
        assert operation == "describe_stacks"
        return self

    def paginate(self) -> list[dict[str, Any]]:
        return [{"Stacks": self.stacks}]


def tags(mesh: str, mesh_id: str | None = None) -> dict[str, str]:
    found = {"meshlink:mesh": mesh, "meshlink:node": "platform:users"}
    if mesh_id is not None:
        found["meshlink:mesh-id"] = mesh_id
    return found


def runtime_for(
    topo: Topology, tmp_path: Path, stacks: list[tuple[str, str, dict[str, str]]], **options: Any
) -> tuple[MeshRuntime, list[str]]:
    notices: list[str] = []
    empty = Listing([])
    by_id: dict[tuple[str, str], Any] = {
        (account.id, "cloudformation"): empty for account in topo.accounts.values()
    }
    first = next(iter(topo.accounts.values())).id
    by_id[(first, "cloudformation")] = Listing(stacks)
    runtime = MeshRuntime(
        topo,
        RunOptions(workdir=tmp_path, **options),
        sessions=FakeSessions(by_id),
        notice=notices.append,
    )
    return runtime, notices


def with_id(mesh_id: str | None) -> Topology:
    base = topology()
    return base.model_copy(update={"mesh_id": mesh_id})


def test_stacks_of_this_identity_or_of_none_are_this_meshs(tmp_path: Path) -> None:
    topo = with_id(MINE)
    name = topo.name
    stacks = [
        (f"meshlink-{name}-platform-a", "CREATE_COMPLETE", tags(name, MINE)),
        (f"meshlink-{name}-platform-b", "CREATE_COMPLETE", tags(name)),  # before mesh ids
        (f"meshlink-{name}-platform-c", "DELETE_COMPLETE", tags(name, THEIRS)),  # gone
        (f"meshlink-{name}-x-platform-d", "CREATE_COMPLETE", tags(f"{name}-x", THEIRS)),
    ]
    runtime, _ = runtime_for(topo, tmp_path, stacks)
    assert find_foreign(runtime) == []
    assert ensure_owned(runtime) == []


def test_another_identity_is_refused_with_both_identities_and_the_way_out(
    tmp_path: Path,
) -> None:
    topo = with_id(MINE)
    name = topo.name
    stacks = [
        (f"meshlink-{name}-platform-{i}", "CREATE_COMPLETE", tags(name, THEIRS)) for i in range(4)
    ]
    runtime, _ = runtime_for(topo, tmp_path, stacks)
    with pytest.raises(ForeignStacks) as caught:
        ensure_owned(runtime)
    error = caught.value
    assert error.exit_code == EXIT_ENVIRONMENT
    assert error.message.startswith(
        f"stacks of mesh {name} belong to another mesh with that name (mesh_id {THEIRS}); "
        f"this topology is mesh {name} with mesh_id {MINE}: meshlink-{name}-platform-0 in "
    )
    assert error.message.endswith(", ... (4 in all)")
    assert error.hint is not None
    assert "rename this mesh" in error.hint and "--adopt" in error.hint


def test_adopt_lets_them_through_and_says_so(tmp_path: Path) -> None:
    topo = with_id(MINE)
    stacks = [(f"meshlink-{topo.name}-platform-a", "CREATE_COMPLETE", tags(topo.name, THEIRS))]
    runtime, notices = runtime_for(topo, tmp_path, stacks, adopt=True, read_only=True)
    assert len(ensure_owned(runtime)) == 1
    assert notices == [f"--adopt: taking over 1 stacks of mesh_id {THEIRS}"]


def test_a_topology_without_mesh_id_is_its_names_mesh(tmp_path: Path) -> None:
    topo = with_id(None)
    assert topo.identity == f"name:{topo.name}"
    note = identity_note(topo)
    assert note is not None and "has no mesh_id" in note and "meshlink init" in note
    assert identity_note(with_id(MINE)) is None
    stacks = [(f"meshlink-{topo.name}-platform-a", "CREATE_COMPLETE", tags(topo.name, THEIRS))]
    runtime, _ = runtime_for(topo, tmp_path, stacks)
    with pytest.raises(ForeignStacks, match=r"with no mesh_id \(identity from its name\)"):
        ensure_owned(runtime)
