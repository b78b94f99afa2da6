"""The topology file's field reference (docs/topology.md), rendered from its JSON Schema.

Every field of every model, with its type, default, allowed values and description,
comes from `meshlink schema`; only what `meshlink validate` checks beyond the schema
(topology/rules.py) is written here, in :data:`VALIDATE_NOTES`, keyed by field path.
`meshlink schema --markdown` prints the result; a unit test keeps docs/topology.md equal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, get_args

Schema = dict[str, Any]

REGENERATE = "meshlink schema --markdown > docs/topology.md"


@dataclass(frozen=True)
class FieldDoc:
    """One field as the reference shows it."""

    path: str  # e.g. "services.<service>.cpu"
    type: str
    default: str
    allowed: str
    description: str


@dataclass(frozen=True)
class Section:
    """One object of the file: the top level, `network`, `services.<service>`, ..."""

    path: str  # "" for the top level
    description: str
    fields: list[FieldDoc] = field(default_factory=list)


def _fargate_sizes() -> str:
    from meshlink.topology.model import Service
    from meshlink.topology.rules import _fargate_memory  # the table validate checks against

    cpus = get_args(Service.model_fields["cpu"].annotation)
    return "; ".join(f"cpu {cpu} → {_span(_fargate_memory(cpu))}" for cpu in cpus)


def _span(values: list[int]) -> str:
    if len(values) > 3:
        return f"{values[0]} to {values[-1]} in steps of {values[1] - values[0]}"
    return ", ".join(map(str, values))


def _vpc_prefixes() -> str:
    from meshlink.topology.addressing import largest_vpc_prefix

    by_prefix: dict[int, list[int]] = {}
    for az_count in range(1, 7):
        by_prefix.setdefault(largest_vpc_prefix(az_count), []).append(az_count)
    parts = [
        f"{_counts(counts)} AZ{'s' if counts != [1] else ''} → /{prefix}"
        for prefix, counts in by_prefix.items()
    ]
    return ", ".join(parts)


def _counts(counts: list[int]) -> str:
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"


def validate_notes() -> dict[str, str]:
    """What `meshlink validate` checks beyond the schema (topology/rules.py), by field path."""
    return {
        "network.az_count": "At most the zones the region offers.",
        "region": "A region meshlink knows (with its number of zones).",
        "accounts": "Keys must stay distinct as CloudFormation ids (not differ by hyphens "
        "only); `meshlink-<name>-endpoints-<account>` must fit in 128 characters (stack names).",
        "accounts.<account>.id": "Unique: an AWS account appears under one key only.",
        "accounts.<account>.vpc_cidr": "Host bits zero; the smallest VPC by az_count is "
        f"{_vpc_prefixes()}. VPCs of one AWS account must not overlap (across accounts "
        "they may).",
        "accounts.<account>.role": "An ARN must be in this account. With `target: aws` and "
        "more than one account id, every account needs `role` or `profile`.",
        "accounts.<account>.principal": "An ARN must be in this account.",
        "services": "`meshlink-<name>-endpoints-<service>` must fit in 128 characters (stack "
        "names). Keys of `services` and "
        "`external` together must stay distinct as CloudFormation ids, and no key may be in both.",
        "services.<service>.account": "A key under `accounts`.",
        "services.<service>.port": "Unique among the services of one account.",
        "services.<service>.memory": f"A size Fargate offers with the cpu: {_fargate_sizes()}.",
        "services.<service>.consumes": "Each a key under `services` or `external`, not the "
        "service itself, listed once.",
    }


# -- reading the schema ----------------------------------------------------------------


def _ref(node: Schema, defs: Schema) -> Schema | None:
    ref = node.get("$ref")
    return defs[ref.rsplit("/", 1)[-1]] if isinstance(ref, str) else None


def _unwrap(node: Schema) -> tuple[Schema, bool]:
    """The node without an `anyOf [X, null]` around it, and whether null was allowed."""
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        inner = next(option for option in options if option != {"type": "null"})
        return {**node, **inner, "anyOf": None}, True
    return node, False


def _map_value(node: Schema) -> tuple[str, Schema] | None:
    """(key pattern, value schema) of a map whose keys have a pattern."""
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1:
        return next(iter(patterns.items()))
    return None


def _placeholder(definition: Schema) -> str:
    """`<service>` for a map of Service objects (from the model's name)."""
    words = re.findall(r"[A-Z][a-z]*", str(definition.get("title", "key")))
    return "<" + "-".join(word.lower() for word in words) + ">"


def _child(node: Schema, defs: Schema, path: str) -> tuple[str, Schema] | None:
    """(path, model schema) of the object a field holds, directly or as a map's values."""
    target = _ref(node, defs)
    if target is not None:
        return path, target
    found = _map_value(node)
    if found is not None:
        target = _ref(found[1], defs)
        if target is not None:
            return f"{path}.{_placeholder(target)}", target
    return None


# -- rendering one field -----------------------------------------------------------------


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text}`"


def _scalar_type(node: Schema) -> str:
    kind = node.get("type")
    if kind == "array":
        return "list of " + _scalar_type(node.get("items") or {})
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return "map of string → " + _scalar_type(node["additionalProperties"])
    return str(kind or "any")


def _type(node: Schema, child: tuple[str, Schema] | None) -> str:
    if child is None:
        return _scalar_type(node)
    link = f"[`{child[0]}`](#{_anchor(child[0])})"
    return f"map of name → {link}" if _map_value(node) else f"object: {link}"


def _default(node: Schema, required: bool) -> str:
    if required:
        return "**required**"
    if "default" in node:
        return "unset" if node["default"] is None else _code(node["default"])
    if _map_value(node) or node.get("type") == "object":
        return "`{}`"
    if node.get("type") == "array":
        return "`[]`"
    return "all defaults"


def _range(node: Schema, low: str, high: str, unit: str = "") -> str | None:
    if low in node and high in node:
        return f"{node[low]} to {node[high]}{unit}"
    if node.get(low) == 1 and unit:
        return "not empty"
    if low in node:
        return f"at least {node[low]}{unit}"
    if high in node:
        return f"at most {node[high]}{unit}"
    return None


def _constraints(node: Schema) -> Iterator[str]:
    if "enum" in node:
        yield ", ".join(_code(value) for value in node["enum"])
    for found in (
        _range(node, "minimum", "maximum"),
        _range(node, "minLength", "maxLength", " characters"),
        _range(node, "minProperties", "maxProperties", " entries"),
    ):
        if found is not None:
            yield found
    if "pattern" in node:
        yield f"pattern {_code(node['pattern'])}"


def _allowed(node: Schema) -> str:
    parts = list(_constraints(node))
    mapped = _map_value(node)
    if mapped is not None:
        keys = [f"pattern {_code(mapped[0])}", *_constraints(node.get("propertyNames") or {})]
        parts.append("keys: " + ", ".join(keys))
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _field(
    path: str, node: Schema, required: bool, defs: Schema, notes: dict[str, str]
) -> FieldDoc:
    node, _ = _unwrap(node)
    child = _child(node, defs, path)
    description = str(node.get("description") or (child[1].get("description") if child else ""))
    note = notes.get(path)
    if note:
        description = f"{description} *Validate:* {note}".strip()
    return FieldDoc(path, _type(node, child), _default(node, required), _allowed(node), description)


# -- the document ----------------------------------------------------------------------------


def sections(schema: Schema) -> list[Section]:
    """Every object of the topology file, top level first, each nested one after its parent."""
    found: list[Section] = []
    _collect("", schema, schema.get("$defs", {}), validate_notes(), found)
    return found


def _collect(
    path: str, model: Schema, defs: Schema, notes: dict[str, str], found: list[Section]
) -> None:
    section = Section(path, str(model.get("description", "")))
    found.append(section)
    required = set(model.get("required", []))
    for name, node in model.get("properties", {}).items():
        full = f"{path}.{name}" if path else name
        section.fields.append(_field(full, node, name in required, defs, notes))
        child = _child(_unwrap(node)[0], defs, full)
        if child is not None:
            _collect(*child, defs, notes, found)


def undocumented(schema: Schema) -> list[str]:
    """Paths of fields the reference would show without a description."""
    return [f.path for s in sections(schema) for f in s.fields if not f.description]


def _anchor(path: str) -> str:
    """GitHub's anchor of a `## path` heading."""
    return re.sub(r"[^a-z0-9 _-]", "", path.lower()).replace(" ", "-")


def _table(section: Section) -> list[str]:
    lines = [
        "| field | type | default | allowed | description |",
        "|---|---|---|---|---|",
    ]
    for doc in section.fields:
        name = doc.path.rsplit(".", 1)[-1]
        cells = (f"`{name}`", doc.type, doc.default, doc.allowed, doc.description)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


HEADER = f"""\
# The topology file: field reference

<!-- Generated from the JSON Schema by `{REGENERATE}`: do not edit by hand.
     Descriptions live in src/meshlink/topology/model.py, validate notes in
     src/meshlink/topology/reference.py. -->

One YAML file (`meshlink.yaml`, or `-f FILE`) describes the mesh. `meshlink schema`
prints its JSON Schema (point your editor's YAML plugin at it); `meshlink validate`
checks the file against it, and then the rules marked *Validate:* below, and reports
every problem as `file:line:col` with a hint (exit code 2, nothing touched). Unknown keys
are errors everywhere. The examples in `examples/` run as they are.
"""


def render_reference(schema: Schema | None = None) -> str:
    """docs/topology.md: every field of the topology file (default: the current schema)."""
    if schema is None:
        from meshlink.topology.schema import topology_schema

        schema = topology_schema()
    lines = [HEADER]
    for section in sections(schema):
        title = f"`{section.path}`" if section.path else "Top level"
        lines += [f"## {title}", "", section.description, "", *_table(section), ""]
    return "\n".join(lines)
