"""Which command modules make up the CLI (each module exposes `register(app)`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach every command to the root app."""
    from meshlink.cli import convert, graph, init, schema, validate

    for module in (validate, graph, schema, init, convert):
        module.register(app)
