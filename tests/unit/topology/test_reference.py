"""docs/topology.md: generated from the schema, every field documented, kept in step."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.topology.reference import (
    REGENERATE,
    render_reference,
    sections,
    undocumented,
    validate_notes,
)
from meshlink.topology.schema import topology_schema
from tests.helpers import REPO

DOC = REPO / "docs" / "topology.md"


def test_docs_topology_md_is_the_generated_reference() -> None:
    assert DOC.read_text(encoding="utf-8") == render_reference(), (
        f"docs/topology.md is out of date with the topology schema: run `{REGENERATE}`"
    )


def test_every_field_has_a_description() -> None:
    assert undocumented(topology_schema()) == [], (
        "give these fields a description= in src/meshlink/topology/model.py, "
        f"then run `{REGENERATE}`"
    )


def test_every_property_of_every_model_is_in_the_reference() -> None:
    schema = topology_schema()
    models = [schema, *schema["$defs"].values()]
    expected = sorted(name for model in models for name in model.get("properties", {}))
    shown = sorted(f.path.rsplit(".", 1)[-1] for s in sections(schema) for f in s.fields)
    assert shown == expected


def test_validate_notes_name_fields_that_exist() -> None:
    paths = {f.path for s in sections(topology_schema()) for f in s.fields}
    assert set(validate_notes()) - paths == set()


def test_links_point_at_headings() -> None:
    text = render_reference()
    headings = {
        re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    }
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links and links <= headings


def test_a_schema_renders_as_tables() -> None:
    schema = {
        "description": "Root.",
        "required": ["name", "items"],
        "properties": {
            "name": {"type": "string", "pattern": "^a|b$", "description": "The name."},
            "mode": {"type": "string", "enum": ["x", "y"], "default": "x", "description": "M."},
            "size": {
                "anyOf": [{"type": "integer", "maximum": 9}, {"type": "null"}],
                "default": None,
                "description": "S.",
            },
            "items": {
                "type": "object",
                "minProperties": 1,
                "patternProperties": {"^[a-z]+$": {"$ref": "#/$defs/BigItem"}},
                "description": "Items.",
            },
        },
        "$defs": {
            "BigItem": {
                "title": "BigItem",
                "description": "One item.",
                "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
            }
        },
    }
    text = render_reference(schema)
    assert "| `name` | string | **required** | pattern `^a\\|b$` | The name. |" in text
    assert "| `mode` | string | `x` | `x`, `y` | M. |" in text
    assert "| `size` | integer | unset | at most 9 | S. |" in text
    assert (
        "| `items` | map of name → [`items.<big-item>`](#itemsbig-item) | **required** | "
        "not empty; keys: pattern `^[a-z]+$` | Items. |"
    ) in text
    assert "## `items.<big-item>`\n\nOne item.\n" in text
    assert "| `tags` | list of string | `[]` |  |  |" in text
    assert undocumented(schema) == ["items.<big-item>.tags"]


def test_schema_markdown_prints_the_reference() -> None:
    result = CliRunner().invoke(app, ["schema", "--markdown"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout == render_reference()
