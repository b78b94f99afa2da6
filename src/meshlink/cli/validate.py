"""`meshlink validate`: check the topology, touch nothing."""

from __future__ import annotations

import typer

from meshlink.cli.context import get_context


def validate(ctx: typer.Context) -> None:
    """Check the topology file; print every problem with file:line:col, or a summary."""
    from meshlink.errors import AlreadyReported, TopologyError
    from meshlink.topology.identity import identity_note
    from meshlink.topology.summary import summarise

    cli = get_context(ctx)
    try:
        topology = cli.topology()
    except TopologyError as error:
        if not cli.json_output:
            raise
        cli.emit_json(
            {
                "valid": False,
                "file": str(error.path),
                "problems": [
                    {"line": p.line, "col": p.col, "message": p.message, "hint": p.hint}
                    for p in error.problems
                ],
            }
        )
        raise AlreadyReported(error) from None
    summary = summarise(topology)
    if cli.json_output:
        cli.emit_json({**summary, "notes": [note.as_json() for note in cli.notes()]})
        return
    cli.print_notes()
    from meshlink.words import plural

    internal = sum(1 for edge in summary["edges"] if not edge["external"])
    cli.console.print(
        f"[green]✓[/green] {cli.file} is valid: mesh [bold]{topology.name}[/bold] "
        f"({topology.target}, {topology.region}) — {plural(len(topology.accounts), 'account')}, "
        f"{plural(len(topology.services), 'service')}, {plural(len(summary['edges']), 'edge')} "
        f"({internal} internal, {len(summary['edges']) - internal} external)"
    )
    for edge in summary["edges"]:
        mark = " (external)" if edge["external"] else ""
        cli.console.print(f"  {edge['consumer']} → {edge['provider']}{mark}")
    note = identity_note(topology)
    if note:
        cli.console.print(f"[dim]{note}[/dim]")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
