"""YAML (and JSON) parsing that remembers where every key and value came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from meshlink.errors import Problem

PathKey = tuple[str | int, ...]


@dataclass
class Locations:
    """Line/column (1-based) of each value and each mapping key, by path from the root."""

    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def of_value(self, path: PathKey) -> tuple[int, int]:
        """Where the value at `path` starts, or the nearest enclosing value."""
        for cut in range(len(path), -1, -1):
            found = self.values.get(path[:cut])
            if found:
                return found
        return (1, 1)

    def of_key(self, path: PathKey) -> tuple[int, int]:
        """Where the key naming `path` stands; falls back to its value."""
        return self.keys.get(path) or self.of_value(path)


class ParsedDocument:
    """Plain data plus its locations, or the problems that stopped parsing."""

    def __init__(self, data: Any, locations: Locations, problems: list[Problem]):
        self.data = data
        self.locations = locations
        self.problems = problems


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _construct_scalar(node: yaml.ScalarNode) -> Any:
    # The safe loader's resolver already tagged the scalar (int, bool, null, str, ...).
    return yaml.SafeLoader.yaml_constructors.get(node.tag, yaml.SafeLoader.construct_undefined)(
        _SCALAR_LOADER, node
    )


_SCALAR_LOADER = yaml.SafeLoader("")


def _walk(node: yaml.Node, path: PathKey, locations: Locations, problems: list[Problem]) -> Any:
    locations.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, col = _mark(key_node)
                problems.append(Problem("mapping keys must be plain strings", line, col))
                continue
            key = _construct_scalar(key_node)
            key = str(key) if key is not None else "null"
            if key in result:
                line, col = _mark(key_node)
                first_line = locations.keys[(*path, key)][0]
                problems.append(
                    Problem(
                        f"duplicate key '{key}' (first defined on line {first_line})",
                        line,
                        col,
                        hint="each name may appear once; rename or merge the two entries",
                    )
                )
                continue
            locations.keys[(*path, key)] = _mark(key_node)
            result[key] = _walk(value_node, (*path, key), locations, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _walk(item, (*path, index), locations, problems)
            for index, item in enumerate(node.value)
        ]
    assert isinstance(node, yaml.ScalarNode)
    try:
        return _construct_scalar(node)
    except yaml.YAMLError as exc:
        line, col = _mark(node)
        problems.append(Problem(f"cannot read value: {exc}", line, col))
        return None


def parse_document(text: str) -> ParsedDocument:
    """Parse YAML or JSON text into plain data, recording the location of everything."""
    locations = Locations()
    problems: list[Problem] = []
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"invalid YAML: {exc.problem or exc.context}"
        return ParsedDocument(
            None,
            locations,
            [Problem(message, line, col, hint="check indentation, colons and quotes here")],
        )
    except yaml.YAMLError as exc:
        return ParsedDocument(None, locations, [Problem(f"invalid YAML: {exc}", 1, 1)])
    if root is None:
        return ParsedDocument(
            None,
            locations,
            [Problem("the file is empty", 1, 1, hint="run 'meshlink init' for a starter file")],
        )
    data = _walk(root, (), locations, problems)
    return ParsedDocument(data, locations, problems)
