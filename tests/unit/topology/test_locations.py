"""YAML features the parser must handle or report, each problem located: anchors, aliases,
merge keys, tags, nesting."""

from __future__ import annotations

import pytest

from meshlink.errors import TopologyError
from meshlink.topology.loader import load_topology_text
from meshlink.topology.locations import MAX_DEPTH, MAX_VALUES, parse_document
from tests.helpers import VALID_YAML

MERGED = """\
name: shop
accounts:
  users: { id: "111111111111", vpc_cidr: 10.1.0.0/16 }
  notify: { id: "222222222222", vpc_cidr: 10.2.0.0/16 }
services:
  user-service: &defaults
    account: users
    port: 8080
    cpu: 512
    memory: 1024
    consumes: [notification-service]
  notification-service:
    <<: *defaults
    account: notify
    consumes: [user-service]
"""


def problems_of(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text, "m.yaml")
    return [(p.line, p.col, p.message) for p in caught.value.problems]


def test_merge_key_merges_the_mapping_and_explicit_keys_win() -> None:
    topology = load_topology_text(MERGED)
    notification = topology.services["notification-service"]
    assert notification.account == "notify"
    assert notification.consumes == ["user-service"]
    assert (notification.port, notification.cpu, notification.memory) == (8080, 512, 1024)


def test_merged_values_are_located_where_they_were_written() -> None:
    at = parse_document(MERGED).locations
    assert at.of_value(("services", "notification-service", "port")) == (8, 11)
    assert at.of_key(("services", "notification-service", "port")) == (8, 5)
    assert at.of_value(("services", "notification-service", "account")) == (14, 14)
    # The merged memory is wrong only next to notification-service's own cpu, yet it is
    # reported where it was written: in the anchored mapping.
    text = MERGED.replace("    account: notify", "    cpu: 2048\n    account: notify")
    (problem,) = problems_of(text)
    assert problem == (
        10,
        13,
        "service 'notification-service' has memory 1024, which Fargate does not offer "
        "with cpu 2048",
    )


def test_earlier_merge_sources_win_and_merged_keys_stand_where_the_merge_key_is() -> None:
    document = parse_document(
        "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {w: 0, <<: [*a, *b], y: 3}\n"
    )
    assert document.problems == []
    assert list(document.data["c"].items()) == [("w", 0), ("x", 1), ("z", 2), ("y", 3)]
    assert document.locations.of_value(("c", "z")) == (2, 17)


def test_nested_merges_are_flattened() -> None:
    document = parse_document("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b}\n")
    assert document.data["c"] == {"x": 1, "y": 2}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: {<<: 3}\n", (1, 9, "<< merges mappings only, not a scalar")),
        ("a: {<<: [{x: 1}, [2]]}\n", (1, 18, "<< merges mappings only, not a list")),
        ("a: {<<: {x: 1}, <<: {y: 1}}\n", (1, 17, "duplicate key '<<' (first defined on line 1)")),
        (
            "a: &a {b: 1, <<: *a}\n",
            (1, 18, "alias *a refers to a value that contains it (a recursive alias)"),
        ),
    ],
)
def test_bad_merges_are_located_problems(text: str, problem: tuple[int, int, str]) -> None:
    document = parse_document(text)
    assert [(p.line, p.col, p.message) for p in document.problems] == [problem]


def test_merge_key_as_a_value_is_just_text() -> None:
    assert parse_document("a: <<\nb: =\n").data == {"a": "<<", "b": "="}


def test_a_quoted_merge_key_is_an_ordinary_key() -> None:
    assert parse_document('a: {"<<": 1}\n').data == {"a": {"<<": 1}}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: &a [*a]\n", (1, 8)),
        ("a: &a {b: [1, {c: *a}]}\n", (1, 19)),
        ("a: &a\n  - x\n  - *a\n", (3, 5)),
    ],
)
def test_a_recursive_alias_is_a_located_problem(text: str, where: tuple[int, int]) -> None:
    document = parse_document(text)
    (problem,) = document.problems
    assert (problem.line, problem.col) == where
    assert "recursive alias" in problem.message


def test_recursive_alias_in_a_topology_is_reported_once_at_the_alias() -> None:
    text = VALID_YAML.replace("consumes: [user-service]", "consumes: &c [user-service, *c]")
    assert problems_of(text) == [
        (14, 33, "alias *c refers to a value that contains it (a recursive alias)")
    ]


def test_an_alias_used_twice_is_not_recursive() -> None:
    document = parse_document("a: &a [1]\nb: [*a, *a]\n")
    assert document.problems == []
    assert document.data == {"a": [1], "b": [[1], [1]]}
    assert document.locations.of_value(("b", 1)) == (2, 9)  # the alias, where it is used


def test_aliases_that_expand_too_far_are_refused() -> None:
    lines = ["l0: &l0 [" + ", ".join(["x"] * 10) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 6)]
    document = parse_document("\n".join(lines) + "\n")
    (problem,) = document.problems
    assert document.data is None
    assert problem.message == f"the file expands to more than {MAX_VALUES} values through aliases"


def test_nesting_too_deep_is_a_located_problem() -> None:
    document = parse_document("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))
    (problem,) = document.problems
    assert problem.message == f"invalid YAML: nesting deeper than {MAX_DEPTH} levels"
    assert (problem.line, problem.col) == (1, 3 + MAX_DEPTH)


def test_aliases_cannot_nest_values_deeper_than_the_limit() -> None:
    depth = MAX_DEPTH // 2 + 2
    text = "a: &a " + "[" * depth + "]" * depth + "\nb: &b " + "[" * depth + "*a" + "]" * depth
    document = parse_document(text + "\n")
    (problem,) = document.problems
    # Found inside the aliased value, where it was written.
    assert problem.message == f"values nest deeper than {MAX_DEPTH} levels (through aliases)"
    assert problem.line == 1


def test_a_long_chain_of_merges_is_a_problem_not_a_recursion_error() -> None:
    lines = ["a0: &a0 {x: 1}"] + [f"a{i}: &a{i} {{<<: *a{i - 1}}}" for i in range(1, 150)]
    document = parse_document("\n".join(lines) + "\n")
    assert document.problems
    assert {p.message for p in document.problems} == {
        f"values nest deeper than {MAX_DEPTH} levels (through aliases)"
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int eighty", "'eighty' is not a valid !!int"),
        ("!!float x", "'x' is not a valid !!float"),
        ("!!bool maybe", "'maybe' is not a valid !!bool"),
        ("!!timestamp soon", "'soon' is not a valid !!timestamp"),
        ("!!binary a", "'a' is not a valid !!binary"),
        ("!custom 80", "unknown YAML tag !custom"),
        ("!!set {80}", "unsupported YAML tag !!set"),
        ("!!python/object:os.system {}", "unsupported YAML tag !!python/object:os.system"),
        ("!!map [80]", "unsupported YAML tag !!map"),
    ],
)
def test_a_value_that_cannot_be_constructed_is_one_located_problem(
    value: str, message: str
) -> None:
    text = VALID_YAML.replace("port: 8081", f"port: {value}")
    assert problems_of(text) == [(13, 11, message)]


@pytest.mark.parametrize(
    ("key", "message"),
    [("!!int eighty", "'eighty' is not a valid !!int"), ("!odd port", "unknown YAML tag !odd")],
)
def test_a_key_that_cannot_be_constructed_is_a_located_problem(key: str, message: str) -> None:
    document = parse_document(f"a:\n  {key}: 1\n")
    assert [(p.line, p.col, p.message) for p in document.problems] == [(2, 3, message)]


def test_an_alias_key_and_an_alias_value_resolve() -> None:
    document = parse_document("a: &k x\n*k : &v 2\nc: *v\n")
    assert document.data == {"a": "x", "x": 2, "c": 2}


def test_a_collection_key_is_a_located_problem() -> None:
    document = parse_document("a: &m {b: 1}\n? *m\n: 2\n")
    assert [(p.line, p.col, p.message) for p in document.problems] == [
        (2, 3, "mapping keys must be plain strings")
    ]
