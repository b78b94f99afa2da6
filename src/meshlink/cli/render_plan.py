"""How `meshlink plan` looks: a table of nodes and their changes, or JSON for scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from meshlink.cli.context import CliContext
from meshlink.words import plural

if TYPE_CHECKING:
    from meshlink.deploy.plan import MeshPlan

ACTION_STYLE = {
    "create": "green",
    "update": "yellow",
    "replace": "magenta",
    "unchanged": "dim",
    "reconcile": "cyan",
    "delete": "red",
}


def render_plan(cli: CliContext, plan: MeshPlan) -> None:
    if cli.json_output:
        cli.emit_json(plan.to_dict())
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("node", overflow="fold")
    table.add_column("action", no_wrap=True)
    table.add_column("resources", overflow="fold")
    table.add_column("detail", overflow="fold", ratio=1)
    for node in plan.nodes:
        style = ACTION_STYLE.get(node.action, "")
        table.add_row(
            node.node,
            f"[{style}]{node.action}[/{style}]",
            str(len(node.changes)) if node.changes else "",
            escape(node.detail),
        )
        for change in node.changes:
            replace = " (replacement)" if change.replacement == "True" else ""
            table.add_row(
                "",
                "",
                f"[dim]{change.action}[/dim]",
                f"[dim]{change.logical_id} {change.resource_type}{replace}[/dim]",
            )
    cli.console.print(table)
    totals = plan.totals()
    cli.console.print(
        f"plan: {totals['create']} to create, {totals['update']} to update, "
        + (f"{totals['replace']} to replace, " if "replace" in totals else "")
        + f"{totals['delete']} to delete, {totals['unchanged']} unchanged, "
        f"{plural(totals['reconcile'], 'acceptance step')}"
    )
