"""YAML (and JSON) parsing that remembers where every key and value came from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import ComposerError

from meshlink.errors import Problem

PathKey = tuple[str | int, ...]

MAX_DEPTH = 100  # far beyond any topology; keeps a pathological file from exhausting the stack
MAX_VALUES = 100_000  # aliases can expand exponentially ("billion laughs")
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
# Plain scalars the resolver tags specially but that only mean something as a key (<<)
# or to nobody (=); as values they are just those strings.
_PLAIN_STRING_TAGS = (MERGE_TAG, "tag:yaml.org,2002:value")


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

    def adopt(self, other: Locations, parent: PathKey, children: set[str]) -> None:
        """Take `other`'s locations of the given children of `parent` (and below)."""
        depth = len(parent)
        for mine, theirs in ((self.values, other.values), (self.keys, other.keys)):
            for path, where in theirs.items():
                if len(path) > depth and path[depth] in children and path[:depth] == parent:
                    mine[path] = where


class ParsedDocument:
    """Plain data plus its locations, or the problems that stopped parsing."""

    def __init__(self, data: Any, locations: Locations, problems: list[Problem]):
        self.data = data
        self.locations = locations
        self.problems = problems


class _Alias(yaml.Node):
    """A use of an anchor (`*name`): the anchored node, and where the alias stands."""

    id = "alias"

    def __init__(self, target: yaml.Node, name: str, event: Any):
        super().__init__(target.tag, target.value, event.start_mark, event.end_mark)
        self.target = target
        self.name = name


class _Loader(yaml.SafeLoader):
    """Composes nodes like SafeLoader, but keeps aliases visible and bounds nesting."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.check_event()  # makes the next event current
        event = self.current_event
        if isinstance(event, yaml.AliasEvent):
            target = super().compose_node(parent, index)
            assert target is not None
            return _Alias(target, str(event.anchor), event)
        if self._depth >= MAX_DEPTH:
            raise ComposerError(
                None, None, f"nesting deeper than {MAX_DEPTH} levels", event.start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node):
        super().__init__()
        self.node = node


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:") else tag


_SCALAR_LOADER = yaml.SafeLoader("")
_FAILED = object()


class _Walker:
    """Turns a node graph into plain data, recording locations and located problems."""

    def __init__(self) -> None:
        self.locations = Locations()
        self.problems: list[Problem] = []
        self._active: set[int] = set()  # collections being walked: an alias to one recurses
        self._budget = MAX_VALUES

    def problem(self, node: yaml.Node, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, *_mark(node), hint))

    def walk(self, node: yaml.Node, path: PathKey) -> Any:
        self._budget -= 1
        if self._budget < 0:
            raise _TooLarge(node)
        if isinstance(node, _Alias):
            target = self._resolve(node)
            value = None if target is None else self.walk(target, path)
            self.locations.values[path] = _mark(node)  # the value is used here
            return value
        self.locations.values[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            value = self._scalar(node)
            return None if value is _FAILED else value
        expected = MAP_TAG if isinstance(node, yaml.MappingNode) else SEQ_TAG
        if node.tag != expected:
            self.problem(
                node,
                f"unsupported YAML tag {_short(node.tag)}",
                "meshlink reads plain mappings and lists: remove the tag",
            )
            return None
        if len(self._active) >= MAX_DEPTH:
            # Aliases and merge keys can nest what was written shallowly.
            self.problem(
                node,
                f"values nest deeper than {MAX_DEPTH} levels (through aliases)",
                "shorten the chain of aliases and merge keys",
            )
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.walk(item, (*path, index)) for index, item in enumerate(node.value)]
        finally:
            self._active.discard(id(node))

    def _resolve(self, node: yaml.Node) -> yaml.Node | None:
        """The node an alias stands for; None (and a problem) if it contains the alias."""
        if not isinstance(node, _Alias):
            return node
        if id(node.target) in self._active:
            self.problem(
                node,
                f"alias *{node.name} refers to a value that contains it (a recursive alias)",
                "an alias cannot point into its own anchor; copy the value instead",
            )
            return None
        return node.target

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag in _PLAIN_STRING_TAGS:
            return node.value
        constructor = yaml.SafeLoader.yaml_constructors.get(node.tag)
        if constructor is None:
            self.problem(
                node,
                f"unknown YAML tag {_short(node.tag)}",
                "meshlink reads plain YAML: remove the tag",
            )
            return _FAILED
        try:
            return constructor(_SCALAR_LOADER, node)
        except Exception:
            # Each tag's constructor fails its own way: ValueError for `!!int abc`,
            # KeyError for `!!bool abc`, AttributeError for `!!timestamp abc`, ...
            self.problem(
                node,
                f"{node.value!r} is not a valid {_short(node.tag)}",
                "fix the value, or remove the tag",
            )
            return _FAILED

    def _key(self, node: yaml.Node) -> str | None:
        target = self._resolve(node)
        if target is None:
            return None
        if not isinstance(target, yaml.ScalarNode):
            self.problem(node, "mapping keys must be plain strings")
            return None
        key = self._scalar(target)
        if key is _FAILED:
            return None
        return "null" if key is None else str(key)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        explicit: dict[str, Any] = {}
        order: list[str | None] = []  # explicit keys, and None where the merge key stands
        sources: list[yaml.Node] = []
        merge_line = 0
        for key_node, value_node in node.value:
            target = key_node.target if isinstance(key_node, _Alias) else key_node
            if isinstance(target, yaml.ScalarNode) and target.tag == MERGE_TAG:
                if merge_line:
                    self._duplicate(key_node, "<<", merge_line)
                    continue
                merge_line = _mark(key_node)[0]
                sources = list(self._merge_sources(value_node))
                order.append(None)
                continue
            key = self._key(key_node)
            if key is None:
                continue
            if key in explicit:
                self._duplicate(key_node, key, self.locations.keys[(*path, key)][0])
                continue
            self.locations.keys[(*path, key)] = _mark(key_node)
            explicit[key] = self.walk(value_node, (*path, key))
            order.append(key)
        merged = self._merge(sources, path, set(explicit))
        result: dict[str, Any] = {}
        for key in order:
            if key is None:
                result.update(merged)
            else:
                result[key] = explicit[key]
        return result

    def _duplicate(self, key_node: yaml.Node, key: str, first_line: int) -> None:
        self.problem(
            key_node,
            f"duplicate key '{key}' (first defined on line {first_line})",
            "each name may appear once; rename or merge the two entries",
        )

    def _merge_sources(self, value_node: yaml.Node) -> Iterator[yaml.Node]:
        """The mappings `<<:` merges, highest priority first."""
        target = self._resolve(value_node)
        if isinstance(target, yaml.SequenceNode):
            items: list[yaml.Node] = target.value
        elif target is not None:
            items = [value_node]
        else:
            items = []
        for item in items:
            resolved = self._resolve(item)
            if isinstance(resolved, yaml.MappingNode):
                yield item
            elif resolved is not None:
                kind = "a list" if isinstance(resolved, yaml.SequenceNode) else "a scalar"
                self.problem(
                    item,
                    f"<< merges mappings only, not {kind}",
                    "write <<: *anchor (a mapping) or <<: [*one, *two]",
                )

    def _merge(self, sources: list[yaml.Node], path: PathKey, explicit: set[str]) -> dict[str, Any]:
        """Merged keys (explicit ones and earlier sources win), located where written."""
        merged: dict[str, Any] = {}
        for source in sources:
            mine, self.locations = self.locations, Locations()
            try:
                value = self.walk(source, path)
            finally:
                theirs, self.locations = self.locations, mine
            if not isinstance(value, dict):
                continue
            taken = {key for key in value if key not in explicit and key not in merged}
            merged.update((key, item) for key, item in value.items() if key in taken)
            self.locations.adopt(theirs, path, taken)
        return merged


def parse_document(text: str) -> ParsedDocument:
    """Parse YAML or JSON text into plain data, recording the location of everything."""
    locations = Locations()
    try:
        root = yaml.compose(text, Loader=_Loader)
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
    walker = _Walker()
    try:
        data = walker.walk(root, ())
    except _TooLarge as exc:
        problem = Problem(
            f"the file expands to more than {MAX_VALUES} values through aliases",
            *_mark(exc.node),
            hint="use fewer nested aliases",
        )
        return ParsedDocument(None, locations, [problem])
    # A merged or aliased value is walked once per use; report each finding once.
    return ParsedDocument(data, walker.locations, list(dict.fromkeys(walker.problems)))
