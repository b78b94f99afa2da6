"""`meshlink init`: write a commented starter meshlink.yaml."""

from __future__ import annotations

import typer

from meshlink.cli.context import get_context


def init(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter topology (two accounts, two services consuming each other)."""
    from meshlink.topology.starter import write_starter

    cli = get_context(ctx)
    path = write_starter(cli.file, force=force)
    if cli.json_output:
        cli.emit_json({"written": str(path)})
    else:
        cli.console.print(f"[green]✓[/green] wrote {path} — next: meshlink validate")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
