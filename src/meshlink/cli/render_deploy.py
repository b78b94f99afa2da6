"""How plan, up, down and status look: rich tables for people, JSON for scripts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from meshlink.cli.context import CliContext
from meshlink.cli.progress import STYLE, Progress

if TYPE_CHECKING:
    from meshlink.deploy.run import RunReport
    from meshlink.deploy.runtime import MeshRuntime
    from meshlink.deploy.status import EdgeStatus, MeshStatus
    from meshlink.graph.executor import EventSink


def run_with_progress(
    cli: CliContext,
    runtime: MeshRuntime,
    run: Callable[[MeshRuntime, EventSink], RunReport],
    *,
    reverse: bool = False,
) -> RunReport:
    """Run up/down with a live display; print a summary (or a JSON summary line)."""
    from meshlink.deploy.run import selected_graph

    graph = selected_graph(runtime)
    order = graph.topological_order()
    if reverse:
        order.reverse()
    with Progress(cli.console, order, json_lines=cli.json_output) as progress:
        # Remarks made during the run (engine choice, zones) must not tear the live table.
        notice, runtime.notice = runtime.notice, progress.notice
        try:
            report = run(runtime, progress)
        finally:
            runtime.notice = notice
    if cli.json_output:
        # One line, like every event before it: a stream reader parses line by line.
        cli.emit_json_line(
            {
                "event": "summary",
                "action": report.action,
                "ok": report.ok,
                "seconds": round(report.seconds, 3),
                "counts": report.counts(),
                "nodes": {n: asdict(o) for n, o in report.outcomes.items()},
            }
        )
        return report
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items()))
    colour = "green" if report.ok else "red"
    cli.console.print(
        f"[{colour}]{report.action} {'finished' if report.ok else 'failed'}[/{colour}] "
        f"in {report.seconds:.1f}s: {counts}"
    )
    for nid, outcome in report.failures().items():
        cli.err_console.print(f"[bold red]✗ {nid}[/bold red]: {escape(outcome.detail or '')}")
    if not report.ok:
        cli.err_console.print(
            "[cyan]hint:[/cyan] fix the cause and run the same command again: "
            "finished nodes are skipped, the rest resumes"
        )
    return report


def render_edges(cli: CliContext, edges: list[EdgeStatus]) -> None:
    if cli.json_output or not edges:
        return
    table = Table(title="endpoints", box=None, header_style="bold", pad_edge=False)
    for column in ("consumer → provider", "endpoint", "dns", "state"):
        table.add_column(column)
    for edge in edges:
        style = "green" if edge.state == "available" else "red"
        table.add_row(
            f"{edge.consumer} → {edge.provider}",
            edge.endpoint_id or "-",
            edge.dns_name or "-",
            f"[{style}]{edge.state}[/{style}]",
        )
    cli.console.print(table)


def render_status(cli: CliContext, status: MeshStatus) -> None:
    if cli.json_output:
        cli.emit_json(status.to_dict())
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("node", "stack", "live", "journal"):
        table.add_column(column)
    for node in status.nodes:
        live = node.stack_status or ("absent" if node.stack else "-")
        style = "green" if live.endswith("COMPLETE") or live == "APPLIED" else "yellow"
        journal_style = STYLE.get(node.journal_status, "")
        table.add_row(
            node.node,
            node.stack or "-",
            f"[{style}]{live}[/{style}]",
            f"[{journal_style}]{node.journal_status}[/{journal_style}]",
        )
    cli.console.print(table)
    render_edges(cli, status.edges)
