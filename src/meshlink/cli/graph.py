"""`meshlink graph`: draw the mesh as mermaid, DOT or a self-contained HTML page."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from meshlink.cli.context import CliContext, get_context

if TYPE_CHECKING:
    from meshlink.render.diagram import Diagram, Notice
    from meshlink.verify.staleness import Staleness, VerifiedResult


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    html = "html"


def graph(
    ctx: typer.Context,
    fmt: GraphFormat = typer.Option(GraphFormat.mermaid, "--format", help="Output format."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to a file."),
    verify: bool = typer.Option(
        False,
        "--verify",
        help="Colour edges from the last `meshlink verify` (green/red); says when it is stale.",
    ),
    workdir: Path | None = typer.Option(
        None, "--workdir", help="Where .meshlink/ state lives (with --verify)."
    ),
    traffic: float = typer.Option(
        10.0,
        "--traffic",
        min=0.0,
        metavar="GB_PER_MONTH",
        help="Traffic the HTML page's edge costs assume (GB a month on each edge).",
    ),
) -> None:
    """Draw the mesh: accounts as boxes, services as nodes, consumption as arrows."""
    from meshlink.render.diagram import Diagram, to_dot, to_html, to_mermaid

    cli = get_context(ctx)
    topology = cli.topology()
    result: VerifiedResult | None = None
    if verify:
        from meshlink.graph.journal import state_dir
        from meshlink.verify.staleness import last_result

        directory = state_dir(cli.workdir(workdir), topology.name, topology.target)
        result = last_result(directory, topology)
        _warn_if_stale(cli, result.staleness)
    diagram = Diagram(
        topology,
        None if result is None else result.edge_states(),
        None if result is None else _notice(result.staleness),
    )
    if fmt == GraphFormat.html:
        diagram = _with_costs(diagram, traffic)
    render = {GraphFormat.mermaid: to_mermaid, GraphFormat.dot: to_dot, GraphFormat.html: to_html}
    text = render[fmt](diagram)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        cli.err_console.print(f"wrote {output}")
    if cli.json_output:
        cli.emit_json(
            {
                "mesh": topology.name,
                "target": topology.target,
                "format": fmt.value,
                "output": None if output is None else str(output),
                "diagram": text if output is None else None,
                "verify": None if result is None else result.to_json(),
            }
        )
    elif output is None:
        typer.echo(text, nl=False)


def _with_costs(diagram: Diagram, traffic: float) -> Diagram:
    """The diagram with each edge's monthly cost (or why there is none) for the HTML page."""
    from dataclasses import replace

    from meshlink.cost.estimate import Assumptions, estimate

    cost = estimate(diagram.topology, Assumptions(traffic_gb=traffic))
    if not cost.priced:
        return replace(diagram, cost_note=cost.no_price())
    edges = {
        (edge.consumer, edge.provider): f"${edge.monthly_usd:,.2f} a month: {edge.detail}"
        for edge in cost.edges
    }
    note = (
        f"The mesh: ${cost.monthly_usd:,.2f} a month (${cost.hourly_usd:,.2f} an hour) in "
        f"{cost.region}, at {traffic:g} GB a month per edge; `meshlink plan` itemises it."
    )
    return replace(diagram, edge_costs=edges, cost_note=note)


def _notice(staleness: Staleness) -> Notice | None:
    from meshlink.render.diagram import Notice

    if not staleness.stale:
        return None
    return Notice(staleness.headline(), tuple(staleness.messages()), staleness.remedy())


def _warn_if_stale(cli: CliContext, staleness: Staleness) -> None:
    from rich.markup import escape

    if not staleness.stale:
        return
    cli.err_console.print(f"[yellow]warning:[/yellow] {escape(staleness.headline())}")
    for message in staleness.messages():
        cli.err_console.print(f"  {escape(message)}")
    cli.err_console.print(f"[cyan]hint:[/cyan] {escape(staleness.remedy() or '')}")


def register(app: typer.Typer) -> None:
    app.command("graph")(graph)
