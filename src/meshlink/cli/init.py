"""`meshlink init`: write a commented starter meshlink.yaml for this project."""

from __future__ import annotations

import typer

from meshlink.cli.context import get_context


def init(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter topology (two accounts, two services consuming each other).

    The mesh is named after the folder and gets a fresh mesh_id, so two projects never
    share (or break) each other's stacks.
    """
    from meshlink.topology.starter import write_starter

    cli = get_context(ctx)
    starter = write_starter(cli.file, force=force)
    if cli.json_output:
        cli.emit_json(
            {"written": str(starter.path), "name": starter.name, "mesh_id": starter.mesh_id}
        )
    else:
        cli.console.print(
            f"[green]✓[/green] wrote {starter.path}: mesh [bold]{starter.name}[/bold] "
            f"(mesh_id {starter.mesh_id}) — next: meshlink validate"
        )


def register(app: typer.Typer) -> None:
    app.command("init")(init)
