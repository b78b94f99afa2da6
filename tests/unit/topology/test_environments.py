"""Environments: overlays laid over the base, located at the overlay's lines."""

from __future__ import annotations

import pytest

from meshlink.errors import TopologyError, UsageError
from meshlink.topology.environments import environment_mesh_id
from meshlink.topology.loader import load_topology_text

BASE = """\
name: shop
mesh_id: "3f9c2a7be41d05c8"
accounts:
  a: { id: "111111111111", vpc_cidr: 10.1.0.0/16 }
  b: { id: "222222222222", vpc_cidr: 10.2.0.0/16 }
services:
  web: { account: a, port: 8080, desired_count: 2, consumes: [api] }
  api: { account: b, port: 8081 }
environments:
  staging:
    accounts:
      b: { id: "333333333333" }
    services:
      web: { desired_count: 1, consumes: [] }
  dev:
    services:
      api: { desired_count: nope }
"""


def test_without_an_environment_the_base_is_the_mesh() -> None:
    topology = load_topology_text(BASE, "shop.yaml")
    assert topology.name == "shop"
    assert topology.services["web"].desired_count == 2
    assert list(topology.environments) == ["staging", "dev"]


def test_an_overlay_merges_mappings_and_replaces_other_values() -> None:
    topology = load_topology_text(BASE, "shop.yaml", environment="staging")
    assert topology.name == "shop-staging"
    assert topology.accounts["b"].id == "333333333333"
    assert topology.accounts["b"].vpc_cidr == "10.2.0.0/16"  # kept from the base
    assert topology.services["web"].desired_count == 1
    assert topology.services["web"].consumes == []  # a list is replaced, not appended
    assert topology.services["web"].port == 8080
    assert topology.environments == {}


def test_each_environment_is_a_mesh_of_its_own() -> None:
    base = load_topology_text(BASE, "shop.yaml")
    staging = load_topology_text(BASE, "shop.yaml", environment="staging")
    assert staging.identity != base.identity
    assert staging.mesh_id == environment_mesh_id("3f9c2a7be41d05c8", "staging")
    assert environment_mesh_id("3f9c2a7be41d05c8", "dev") != staging.mesh_id
    nameless = BASE.replace('mesh_id: "3f9c2a7be41d05c8"\n', "")
    assert load_topology_text(nameless, "s.yaml", environment="staging").identity == (
        "name:shop-staging"
    )


def test_a_problem_in_an_overlay_points_at_the_overlay_line() -> None:
    with pytest.raises(TopologyError) as caught:
        load_topology_text(BASE, "shop.yaml", environment="dev")
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (17, 29)
    assert "desired_count" in problem.message


def test_an_unknown_environment_is_a_usage_error_naming_the_defined_ones() -> None:
    with pytest.raises(UsageError, match=r"'prod' is not defined \(environments: staging, dev\)"):
        load_topology_text(BASE, "shop.yaml", environment="prod")


def test_an_overlay_that_is_not_a_mapping_is_a_located_problem() -> None:
    text = BASE.replace("  dev:\n    services:\n      api: { desired_count: nope }\n", "  dev: 3\n")
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text, "shop.yaml", environment="dev")
    (problem,) = caught.value.problems
    assert problem.message == "environments.dev must be a mapping of values to overlay"
    assert problem.line == 15
