from __future__ import annotations

import pytest

from meshlink.graph.planner import KIND_ORDER, plan_graph
from meshlink.topology.loader import load_topology, load_topology_text
from tests.helpers import EXAMPLES


@pytest.mark.parametrize("example", ["two-accounts.yaml", "full-mesh-4.yaml", "blog-config.json"])
def test_every_dependency_points_to_an_earlier_kind_or_same_level(example: str) -> None:
    graph = plan_graph(load_topology(EXAMPLES / example))
    order = graph.topological_order()
    position = {nid: i for i, nid in enumerate(order)}
    for node in graph:
        for dep in node.depends_on:
            assert position[dep] < position[node.id]
            assert KIND_ORDER.index(graph.nodes[dep].kind) < KIND_ORDER.index(node.kind)


def test_two_accounts_graph() -> None:
    graph = plan_graph(load_topology(EXAMPLES / "two-accounts.yaml"))
    assert len(graph) == 2 * 2 + 2 * 4
    assert graph.nodes["endpoints:user-service"].depends_on == (
        "network:users",
        "edge:user-service",
        "edge:notification-service",
    )
    assert graph.nodes["accept:notification-service"].depends_on == (
        "edge:notification-service",
        "endpoints:user-service",
    )
    assert "accept:notification-service" in graph.nodes["service:user-service"].depends_on
    assert "dashboard:shop" not in graph.nodes  # only with dashboard: true
    text = (EXAMPLES / "two-accounts.yaml").read_text() + "dashboard: true\n"
    dashboard = plan_graph(load_topology_text(text, "d.yaml")).nodes["dashboard:shop"]
    # One dashboard, in the first account: it reads every consumed service's NLB.
    assert dashboard.account == "users"
    assert dashboard.depends_on == (
        "platform:users",
        "edge:user-service",
        "edge:notification-service",
    )


def test_full_mesh_is_acyclic_and_its_critical_path_is_five_levels() -> None:
    graph = plan_graph(load_topology(EXAMPLES / "full-mesh-4.yaml"))
    assert len(graph) == 4 * 2 + 4 * 4
    path = [nid.split(":")[0] for nid in graph.critical_path()]
    assert path == ["network", "edge", "endpoints", "accept", "service"]


def test_select_keeps_only_requested_kinds() -> None:
    graph = plan_graph(load_topology(EXAMPLES / "two-accounts.yaml"))
    network_only = graph.select({"network"})
    assert sorted(network_only.nodes) == ["network:notify", "network:users"]
    services = graph.select({"platform", "edge", "endpoints", "accept", "service"})
    assert all(not d.startswith("network:") for n in services for d in n.depends_on)


def test_a_service_that_consumes_nothing_has_no_endpoints_node() -> None:
    from meshlink.topology.loader import load_topology_text
    from tests.helpers import VALID_YAML

    text = VALID_YAML.replace("    consumes: [user-service]\n", "")
    graph = plan_graph(load_topology_text(text))
    assert "endpoints:notification-service" not in graph.nodes
    assert (
        "endpoints:notification-service"
        not in graph.nodes["service:notification-service"].depends_on
    )
    assert graph.nodes["accept:notification-service"].depends_on == (
        "edge:notification-service",
        "endpoints:user-service",
    )
    # Nobody consumes user-service any more: no endpoint service, nothing to accept.
    assert "accept:user-service" not in graph.nodes
