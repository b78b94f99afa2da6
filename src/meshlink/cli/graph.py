"""`meshlink graph`: draw the mesh as mermaid, DOT or a self-contained HTML page."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from meshlink.cli.context import get_context


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    html = "html"


def graph(
    ctx: typer.Context,
    fmt: GraphFormat = typer.Option(GraphFormat.mermaid, "--format", help="Output format."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to a file."),
    verify: bool = typer.Option(
        False, "--verify", help="Colour edges from the last `meshlink verify` (green/red)."
    ),
    workdir: Path | None = typer.Option(
        None, "--workdir", help="Where .meshlink/ state lives (with --verify)."
    ),
) -> None:
    """Draw the mesh: accounts as boxes, services as nodes, consumption as arrows."""
    from meshlink.render.diagram import Diagram, EdgeState, to_dot, to_html, to_mermaid

    cli = get_context(ctx)
    topology = cli.topology()
    states: dict[tuple[str, str], EdgeState] | None = None
    if verify:
        from meshlink.graph.journal import state_dir
        from meshlink.verify.report import last_edge_states

        directory = state_dir(cli.workdir(workdir), topology.name, topology.target)
        states = last_edge_states(directory)
    diagram = Diagram(topology, states)
    render = {GraphFormat.mermaid: to_mermaid, GraphFormat.dot: to_dot, GraphFormat.html: to_html}
    text = render[fmt](diagram)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        cli.err_console.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    app.command("graph")(graph)
