"""Mutated topology files never make the loader raise anything but TopologyError."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshlink.errors import TopologyError
from meshlink.topology.loader import load_topology_text
from tests.helpers import EXAMPLES, VALID_YAML

BASE = yaml.safe_load(VALID_YAML)
SEED = json.loads((EXAMPLES / "blog-config.json").read_text())
# Pieces of YAML that reach the constructor rather than the scanner: anchors, aliases,
# merge keys, tags, complex keys.
YAML_PIECES = st.sampled_from(
    [
        "&a ", "*a", "<<: *a\n", "<<: ", "<<", "[*a]", "{<<: *a}", "&a [*a]", "&a {b: *a}",
        "!!int ", "!!bool ", "!!float ", "!!timestamp ", "!!binary ", "!!set ", "!!map ",
        "!!seq ", "!!str ", "!x ", "? ", "=", "- ", ": ", "\n  ", "\n    ", "[", "{", "'",
    ]
)  # fmt: skip
INSERTS = st.one_of(st.text(max_size=5), st.lists(YAML_PIECES, min_size=1, max_size=3).map("".join))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["10.0.0.0/16", "111111111111", "user-service", "auto", "-1", "0"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(BASE)[1:]


def _mutate(data: object, path: tuple[object, ...], value: object, delete: bool) -> object:
    import copy

    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]  # type: ignore[index]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value  # type: ignore[index]
    return data


def _check(text: str, name: str = "fuzz.yaml") -> None:
    try:
        load_topology_text(text, name)
    except TopologyError as error:
        assert error.problems
        lines = len(text.splitlines()) + 1  # YAML's line breaks include \x85, \u2028
        assert all(1 <= p.line <= lines and p.col >= 1 for p in error.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), VALUES, st.booleans())
def test_structural_mutations_raise_only_topology_errors(
    path: tuple[object, ...], value: object, delete: bool
) -> None:
    _check(yaml.safe_dump(_mutate(BASE, path, value, delete)))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(VALID_YAML)), INSERTS, st.integers(0, 4))
def test_textual_mutations_raise_only_topology_errors(
    position: int, insert: str, remove: int
) -> None:
    _check(VALID_YAML[:position] + insert + VALID_YAML[position + remove :])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, len(VALID_YAML)),
    st.integers(0, len(VALID_YAML)),
    st.sampled_from(["&a ", "&a\n    "]),
    st.sampled_from(["*a", "<<: *a\n    ", "[*a, *a]", "{<<: [*a]}", "*a\n    "]),
)
def test_anchors_and_aliases_anywhere_raise_only_topology_errors(
    first: int, second: int, anchor: str, alias: str
) -> None:
    first, second = sorted((first, second))
    _check(VALID_YAML[:first] + anchor + VALID_YAML[first:second] + alias + VALID_YAML[second:])


SEED_PATHS = _paths(SEED)[1:]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEED_PATHS), VALUES, st.booleans())
def test_seed_mutations_raise_only_topology_errors(
    path: tuple[object, ...], value: object, delete: bool
) -> None:
    _check(json.dumps(_mutate(SEED, path, value, delete), indent=2), "seed.json")
