"""Which command modules make up the CLI (each module exposes `register(app)`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach every command to the root app."""
    from meshlink.cli import (
        bootstrap,
        convert,
        deploy_commands,
        graph,
        init,
        local,
        schema,
        validate,
        verify,
    )

    for module in (validate, graph, schema, init, convert, deploy_commands, local, verify):
        module.register(app)
    bootstrap.register(app)
