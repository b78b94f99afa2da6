"""Meshes for the stack tests, each synthesized once per session (synthesis is slow)."""

from __future__ import annotations

import pytest

from tests.unit.stacks.stacks_helpers import (
    EXTERNAL,
    FULL_MESH_4,
    ONE_WAY,
    SHARED,
    TWO_WAY,
    Mesh,
    synthesize,
)


@pytest.fixture(scope="session")
def two_way() -> Mesh:
    return synthesize(TWO_WAY)


@pytest.fixture(scope="session")
def full_mesh() -> Mesh:
    return synthesize(FULL_MESH_4)


@pytest.fixture(scope="session")
def one_way() -> Mesh:
    return synthesize(ONE_WAY)


@pytest.fixture(scope="session")
def external() -> Mesh:
    return synthesize(EXTERNAL)


@pytest.fixture(scope="session")
def shared() -> Mesh:
    """A networking account sharing its VPC's subnets with two service accounts."""
    return synthesize(SHARED)


@pytest.fixture(scope="session")
def all_meshes(
    two_way: Mesh, full_mesh: Mesh, one_way: Mesh, external: Mesh, shared: Mesh
) -> list[Mesh]:
    return [two_way, full_mesh, one_way, external, shared]
