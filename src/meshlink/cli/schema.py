"""`meshlink schema`: the JSON Schema of the topology file, for editors (or its reference)."""

from __future__ import annotations

import sys

import typer

from meshlink.cli.context import get_context


def schema(
    ctx: typer.Context,
    markdown: bool = typer.Option(
        False, "--markdown", help="Print the field reference (docs/topology.md) instead."
    ),
) -> None:
    """Print the JSON Schema of meshlink.yaml (point your editor's YAML plugin at it)."""
    if markdown:
        from meshlink.topology.reference import render_reference

        sys.stdout.write(render_reference())
        return
    from meshlink.topology.schema import topology_schema

    get_context(ctx).emit_json(topology_schema())


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
