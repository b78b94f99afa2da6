"""`meshlink init`'s starter: a name from the folder, a fresh identity, its own accounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshlink.errors import UsageError
from meshlink.topology.loader import load_topology, load_topology_text
from meshlink.topology.starter import (
    local_account_id,
    mesh_name_for,
    starter_text,
    write_starter,
)


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("shop", "shop"),
        ("My Cool_Project", "my-cool-pro"),
        ("2024-orders", "orders"),
        ("billing-", "billing"),
        ("a--b", "a-b"),
        ("___", "mesh"),
        ("123", "mesh"),
        ("Ünïcode", "n-code"),
    ],
)
def test_mesh_name_is_a_valid_short_name_from_the_folder(folder: str, name: str) -> None:
    assert mesh_name_for(Path("/somewhere") / folder) == name


def test_account_ids_are_twelve_digits_derived_from_the_identity() -> None:
    first = local_account_id("0123456789abcdef", "users")
    assert first == local_account_id("0123456789abcdef", "users")
    assert len(first) == 12 and first.isdigit() and first[0] != "0"
    assert first != local_account_id("0123456789abcdef", "notify")
    assert first != local_account_id("fedcba9876543210", "users")


def test_starter_is_a_valid_topology_of_that_name_and_identity() -> None:
    topology = load_topology_text(starter_text("orders", "0123456789abcdef"), "meshlink.yaml")
    assert (topology.name, topology.mesh_id) == ("orders", "0123456789abcdef")
    ids = {account.id for account in topology.accounts.values()}
    assert ids == {local_account_id("0123456789abcdef", k) for k in ("users", "notify")}
    assert ids.isdisjoint({"111111111111", "222222222222"})  # never the demo's


def test_two_projects_get_two_meshes(tmp_path: Path) -> None:
    written = []
    for folder in ("alpha", "beta"):
        (tmp_path / folder).mkdir()
        written.append(write_starter(tmp_path / folder / "meshlink.yaml", force=False))
    one, two = (load_topology(starter.path) for starter in written)
    assert (one.name, two.name) == ("alpha", "beta")
    assert one.mesh_id == written[0].mesh_id != two.mesh_id == written[1].mesh_id
    assert {a.id for a in one.accounts.values()}.isdisjoint(a.id for a in two.accounts.values())
    with pytest.raises(UsageError):
        write_starter(written[0].path, force=False)
