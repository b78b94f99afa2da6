from __future__ import annotations

import pytest

from meshlink.errors import TopologyError, UsageError
from meshlink.topology.loader import load_topology, load_topology_text
from tests.helpers import EXAMPLES, FIXTURES, VALID_YAML


def test_valid_topology_loads_with_defaults() -> None:
    topology = load_topology_text(VALID_YAML)
    assert topology.name == "shop"
    assert topology.target == "local"
    assert topology.network.engine == "auto"
    assert topology.services["user-service"].desired_count == 2
    assert topology.edges() == [
        ("user-service", "notification-service"),
        ("notification-service", "user-service"),
    ]


@pytest.mark.parametrize("name", ["two-accounts.yaml", "full-mesh-4.yaml", "blog-config.json"])
def test_examples_are_valid(name: str) -> None:
    topology = load_topology(EXAMPLES / name)
    assert len(topology.services) >= 2


def test_every_problem_in_a_file_is_reported_in_line_order() -> None:
    with pytest.raises(TopologyError) as caught:
        load_topology(FIXTURES / "topologies" / "multi-error.yaml")
    locations = [(p.line, p.col) for p in caught.value.problems]
    assert locations == [(2, 1), (4, 16), (5, 3), (9, 11), (14, 5)]
    assert caught.value.exit_code == 2


def test_missing_file_is_a_usage_error_with_a_hint(tmp_path: object) -> None:
    with pytest.raises(UsageError) as caught:
        load_topology("/nonexistent/meshlink.yaml")
    assert caught.value.hint is not None and "meshlink init" in caught.value.hint


def test_semantic_problems_point_at_the_offending_value() -> None:
    text = VALID_YAML.replace("consumes: [notification-service]", "consumes: [nope]")
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text, "m.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (10, 16)
    assert problem.message == "service 'user-service' consumes unknown service 'nope'"


def test_json_seed_errors_point_into_the_json_file(tmp_path: object) -> None:
    text = (EXAMPLES / "blog-config.json").read_text().replace('"port": 8081,', '"port": 0,', 1)
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text, "blog.json")
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (21, 15)
    assert "greater than or equal to 1" in problem.message
