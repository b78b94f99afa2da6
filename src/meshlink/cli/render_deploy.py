"""How up, down and status look: rich tables for people, JSON for scripts."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from meshlink.cli.context import CliContext
from meshlink.cli.progress import STYLE, Progress
from meshlink.graph.executor import Event, Outcome
from meshlink.words import plural

if TYPE_CHECKING:
    from meshlink.deploy.run import RunReport
    from meshlink.deploy.runtime import MeshRuntime
    from meshlink.deploy.status import EdgeStatus, MeshStatus
    from meshlink.graph.executor import EventSink

NOT_DEPLOYED = "not deployed"


def not_deployed(outcome: Outcome, absent: Collection[str], node: str) -> Outcome:
    """A `down` outcome told as it was: a node that did not exist was not deleted."""
    if node in absent and outcome.ok:
        return Outcome("unchanged", NOT_DEPLOYED, outcome.outputs, outcome.seconds)
    return outcome


def run_with_progress(
    cli: CliContext,
    runtime: MeshRuntime,
    run: Callable[[MeshRuntime, EventSink], RunReport],
    *,
    reverse: bool = False,
    absent: Collection[str] = (),
    summary_extra: Mapping[str, Any] | None = None,
) -> RunReport:
    """Run up/down with a live display; print a summary (or a JSON summary line).

    `absent`: nodes known to have nothing deployed before the run (down): their
    outcome says "not deployed", whatever their handler answered. `summary_extra`: keys
    added to the JSON summary line (up's `cost`).
    """
    from meshlink.deploy.run import selected_graph

    graph = selected_graph(runtime)
    order = graph.topological_order()
    if reverse:
        order.reverse()
    with Progress(cli.console, order, json_lines=cli.json_output) as progress:

        def sink(event: Event) -> None:
            if event.outcome is not None:
                event = replace(event, outcome=not_deployed(event.outcome, absent, event.node))
            progress(event)

        # Remarks made during the run (engine choice, zones) must not tear the live table.
        notice, runtime.notice = runtime.notice, progress.notice
        try:
            report = run(runtime, sink)
        finally:
            runtime.notice = notice
    report.outcomes = {n: not_deployed(o, absent, n) for n, o in report.outcomes.items()}
    if cli.json_output:
        # One line, like every event before it: a stream reader parses line by line.
        cli.emit_json_line(
            {
                "event": "summary",
                "action": report.action,
                "ok": report.ok,
                "seconds": round(report.seconds, 3),
                "counts": report.counts(),
                "summary": summary_text(report),
                "nodes": {n: asdict(o) for n, o in report.outcomes.items()},
                "repaired": report.repaired,
                **(summary_extra or {}),
            }
        )
        return report
    colour = "green" if report.ok else "red"
    cli.console.print(
        f"[{colour}]{report.action} {'finished' if report.ok else 'failed'}[/{colour}] "
        f"in {report.seconds:.1f}s: {summary_text(report)}"
    )
    for nid, whats in report.repaired.items():
        cli.console.print(f"[cyan]repaired[/cyan] {nid}: {escape('; '.join(whats))}")
    for nid, outcome in report.failures().items():
        cli.err_console.print(f"[bold red]✗ {nid}[/bold red]: {escape(outcome.detail or '')}")
    if not report.ok:
        cli.err_console.print(
            "[cyan]hint:[/cyan] fix the cause and run the same command again: "
            "finished nodes are skipped, the rest resumes"
        )
    return report


def summary_text(report: RunReport) -> str:
    """'12 nodes: 1 done, 11 unchanged'; a down that deleted nothing says so."""
    counts = report.counts()
    total = sum(counts.values())
    if report.action == "down" and report.ok and not counts.get("done"):
        return f"nothing to delete ({plural(total, 'node')} not deployed)"
    return f"{plural(total, 'node')}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def render_edges(cli: CliContext, edges: list[EdgeStatus]) -> None:
    if cli.json_output or not edges:
        return
    table = Table(title="endpoints", box=None, header_style="bold", pad_edge=False)
    # Ids and DNS names are copied by users: fold them over lines, never cut them.
    table.add_column("consumer → provider", overflow="fold")
    table.add_column("endpoint", overflow="fold", min_width=12)
    table.add_column("dns", overflow="fold", ratio=1)
    table.add_column("state", no_wrap=True)
    for edge in edges:
        style = "green" if edge.state == "available" else "red"
        table.add_row(
            f"{edge.consumer} → {edge.provider}",
            edge.endpoint_id or "-",
            edge.dns_name or "-",
            f"[{style}]{edge.state}[/{style}]",
        )
    cli.console.print(table)


VERDICT_STYLE = {
    "healthy": "green",
    "absent": "red",
    "failed": "bold red",
    "drifted": "yellow",
    "not deployed": "dim",
}


def render_status(cli: CliContext, status: MeshStatus) -> None:
    if cli.json_output:
        cli.emit_json(status.to_dict())
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("node", overflow="fold")
    table.add_column("stack", overflow="fold")
    table.add_column("live", overflow="fold")
    table.add_column("journal", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for node in status.nodes:
        live = node.stack_status or ("absent" if node.stack else "-")
        style = "green" if node.live_healthy else "yellow"
        journal_style = STYLE.get(node.journal_status, "")
        verdict_style = VERDICT_STYLE[node.verdict]
        table.add_row(
            node.node,
            node.stack or "-",
            f"[{style}]{live}[/{style}]",
            f"[{journal_style}]{node.journal_status}[/{journal_style}]",
            f"[{verdict_style}]{node.verdict}[/{verdict_style}]",
        )
    cli.console.print(table)
    for node in status.nodes:
        for difference in [*node.drift, *node.resource_drift]:
            cli.console.print(
                f"[yellow]![/yellow] {node.node}: {escape(difference)}", soft_wrap=False
            )
    render_edges(cli, status.edges)
    colour = "green" if status.ok else "red"
    cli.console.print(f"[{colour}]{escape(status.summary())}[/{colour}]", soft_wrap=False)
