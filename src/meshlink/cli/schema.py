"""`meshlink schema`: the JSON Schema of the topology file, for editors."""

from __future__ import annotations

import typer

from meshlink.cli.context import get_context


def schema(ctx: typer.Context) -> None:
    """Print the JSON Schema of meshlink.yaml (point your editor's YAML plugin at it)."""
    from meshlink.topology.schema import topology_schema

    get_context(ctx).emit_json(topology_schema())


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
