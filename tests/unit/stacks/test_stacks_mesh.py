"""build_mesh: one app, parameters instead of cross-stack references, an acyclic graph."""

from __future__ import annotations

import json
from graphlib import TopologicalSorter

import pytest

from meshlink.engines.network_contract import LIST_OUTPUTS, NETWORK_OUTPUTS
from meshlink.graph.planner import KIND_ORDER
from meshlink.stacks.mesh import node_dependencies, node_of, stack_nodes
from meshlink.topology.naming import stack_name
from tests.unit.stacks.stacks_helpers import Mesh


def _kind(node: str) -> str:
    return node.split(":", 1)[0]


def test_two_way_mesh_has_every_stack(two_way: Mesh) -> None:
    assert list(two_way.stacks) == [
        "network:users",
        "network:notify",
        "platform:users",
        "platform:notify",
        "edge:user-service",
        "edge:notification-service",
        "endpoints:user-service",
        "endpoints:notification-service",
        "service:user-service",
        "service:notification-service",
        "dashboard:shop",  # dashboard: true
    ]
    assert list(two_way.stacks) == stack_nodes(two_way.topology)


def test_stacks_are_named_and_placed_by_node(all_meshes: list[Mesh]) -> None:
    for mesh in all_meshes:
        for node, stack in mesh.stacks.items():
            kind, subject = node.split(":", 1)
            assert stack.stack_name == stack_name(mesh.topology.name, kind, subject)
            assert node_of(mesh.templates[node]) == node
            if kind == "dashboard":
                account = next(iter(mesh.topology.accounts))  # the first account
            elif kind in ("network", "platform"):
                account = subject
            elif kind == "endpoints":  # the VPC owner's (a shared network's owner)
                account = mesh.topology.endpoints_account(subject)
            else:
                account = mesh.topology.services[subject].account
            assert stack.account == mesh.topology.accounts[account].id
            assert stack.region == mesh.topology.region


def test_dependencies_point_to_earlier_kinds_and_existing_nodes(all_meshes: list[Mesh]) -> None:
    for mesh in all_meshes:
        for node, template in mesh.templates.items():
            for upstream in node_dependencies(template):
                assert upstream in mesh.stacks, (node, upstream)
                assert KIND_ORDER.index(_kind(upstream)) < KIND_ORDER.index(_kind(node))


def test_full_mesh_is_acyclic(full_mesh: Mesh) -> None:
    graph = {node: node_dependencies(t) for node, t in full_mesh.templates.items()}
    order = list(TopologicalSorter(graph).static_order())
    # network and platform per account (3), edge, endpoints and service per service (4).
    assert len(order) == 3 * 2 + 4 * 3
    assert graph["endpoints:orders"] == {
        "network:retail",
        "edge:orders",
        "edge:inventory",
        "edge:payments",
        "edge:shipping",
    }
    assert graph["service:orders"] == {
        "network:retail",
        "platform:retail",
        "edge:orders",
        "endpoints:orders",
    }


def test_every_parameter_is_traced_to_an_existing_output(all_meshes: list[Mesh]) -> None:
    for mesh in all_meshes:
        for node, template in mesh.templates.items():
            sources = template["Metadata"]["meshlink"]["parameters"]
            assert set(sources) == set(template.get("Parameters", {})), node
            for name, source in sources.items():
                if "resolver" in source:
                    # Every resolver a template names must be one the orchestrator has.
                    assert source["resolver"] in ("shared_zone_subnets", "mesh_zone_ids")
                    assert _kind(node) == (
                        "endpoints" if source["resolver"] == "shared_zone_subnets" else "network"
                    )
                    continue
                upstream = source["node"]
                if _kind(upstream) == "network":
                    assert source["output"] in NETWORK_OUTPUTS
                    list_typed = template["Parameters"][name]["Type"] == "CommaDelimitedList"
                    assert list_typed == (
                        source["output"] in LIST_OUTPUTS and source["output"] != "az_ids"
                    )
                else:
                    assert source["output"] in mesh.templates[upstream]["Outputs"], (node, name)


def test_no_cross_stack_references(all_meshes: list[Mesh]) -> None:
    for mesh in all_meshes:
        for node, template in mesh.templates.items():
            text = json.dumps(template)
            assert "Fn::ImportValue" not in text, node
            assert all("Export" not in output for output in template.get("Outputs", {}).values())


def test_node_dependencies_rejects_a_foreign_template() -> None:
    with pytest.raises(ValueError, match="not a meshlink stack"):
        node_dependencies({"Resources": {}})
