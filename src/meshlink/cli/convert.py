"""`meshlink convert`: the blog post's JSON config as an equivalent meshlink.yaml."""

from __future__ import annotations

from pathlib import Path

import typer

from meshlink.cli.context import get_context


def convert(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="Seed-format JSON config (microservices[] ...)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here, not stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file."),
) -> None:
    """Convert the blog post's JSON config into meshlink.yaml."""
    from meshlink.errors import UsageError
    from meshlink.topology.dump import to_yaml
    from meshlink.topology.loader import load_topology

    cli = get_context(ctx)
    text = to_yaml(load_topology(source))
    if output is None:
        typer.echo(text, nl=False)
        return
    if output.exists() and not force:
        raise UsageError(f"{output} already exists", hint="pass --force to overwrite it")
    output.write_text(text, encoding="utf-8")
    cli.err_console.print(f"[green]✓[/green] wrote {output}")


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
