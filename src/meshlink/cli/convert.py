"""`meshlink convert`: the blog post's JSON config as an equivalent meshlink.yaml."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from meshlink.cli.context import get_context

if TYPE_CHECKING:
    from meshlink.topology.notes import Note


def convert(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="Seed-format JSON config (microservices[] ...)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here, not stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file."),
) -> None:
    """Convert the blog post's JSON config into meshlink.yaml."""
    from meshlink.errors import UsageError
    from meshlink.topology.dump import to_yaml
    from meshlink.topology.loader import load_topology_with_notes

    cli = get_context(ctx)
    topology, notes = load_topology_with_notes(source)
    text = to_yaml(topology, _comments(source, notes))
    if output is None:
        typer.echo(text, nl=False)
        return
    if output.exists() and not force:
        raise UsageError(f"{output} already exists", hint="pass --force to overwrite it")
    output.write_text(text, encoding="utf-8")
    cli.err_console.print(f"[green]✓[/green] wrote {output}")


def _comments(source: Path, notes: list[Note]) -> list[str]:
    """The inferences, as YAML comments naming where in the JSON each was made."""
    if not notes:
        return []
    lines = [f"Converted from {source.name}. What it leaves out, meshlink inferred:"]
    for note in notes:
        wrapped = textwrap.wrap(f"{source.name}:{note.line}: {note.message}", width=86)
        lines += [f"- {wrapped[0]}", *(f"  {rest}" for rest in wrapped[1:])]
    return lines


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
