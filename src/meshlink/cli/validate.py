"""`meshlink validate`: check the topology, touch nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from meshlink.cli.context import get_context

if TYPE_CHECKING:
    from meshlink.topology.model import Topology


def validate(ctx: typer.Context) -> None:
    """Check the topology file; print every problem with file:line:col, or a summary."""
    from meshlink.errors import AlreadyReported, TopologyError
    from meshlink.topology.identity import identity_note
    from meshlink.topology.summary import summarise

    cli = get_context(ctx)
    try:
        topology = cli.topology()
        if cli.environment is None:
            _check_environments(cli.file, topology)
        from meshlink.quotas.preflight import validate_quotas

        quotas = validate_quotas(
            topology, cli.file, lambda m: cli.err_console.print(f"[dim]{m}[/dim]")
        )
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
        cli.emit_json(
            {
                **summary,
                "notes": [note.as_json() for note in cli.notes()],
                "quotas": quotas.to_dict(),
            }
        )
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
    for name in topology.environments:
        cli.console.print(
            f"  environment {name}: valid (mesh {topology.name}-{name}; --env {name})"
        )
    note = identity_note(topology)
    if note:
        cli.console.print(f"[dim]{note}[/dim]")


def _check_environments(path: Path, topology: Topology) -> None:
    """Every environment's merged topology is valid too: one error lists all problems."""
    from meshlink.errors import Problem, TopologyError
    from meshlink.topology.loader import load_topology

    problems: list[Problem] = []
    for name in topology.environments:
        try:
            load_topology(path, name)
        except TopologyError as error:
            problems += [
                Problem(f"environment {name}: {p.message}", p.line, p.col, p.hint)
                for p in error.problems
            ]
    if problems:
        raise TopologyError(path=path, problems=problems)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
