"""How `meshlink plan` looks: a table of nodes and their changes, or JSON for scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from meshlink.cli.context import CliContext
from meshlink.words import plural

if TYPE_CHECKING:
    from meshlink.cost.estimate import CostEstimate
    from meshlink.deploy.handlers.model import Change
    from meshlink.deploy.plan import MeshPlan
    from meshlink.quotas.check import QuotaReport

ACTION_STYLE = {
    "create": "green",
    "update": "yellow",
    "replace": "magenta",
    "unchanged": "dim",
    "reconcile": "cyan",
    "delete": "red",
    "repair": "bold yellow",
}


VALUE_WIDTH = 30  # a property's before/after values beyond this are cut


def property_lines(change: Change) -> list[str]:
    """One line per changed property: its values (or the items added and removed, for
    lists such as AllowedPrincipals), what caused it, and whether it forces replacement."""
    lines = []
    for prop in change.properties:
        if prop.added or prop.removed:
            values = " ".join([*(f"+{i}" for i in prop.added), *(f"-{i}" for i in prop.removed)])
        elif prop.before is not None or prop.after is not None:
            values = f"{_cut(prop.before)} -> {_cut(prop.after)}"
        else:
            values = f"via {prop.causing_entity}" if prop.causing_entity else ""
        forced = " (requires replacement)" if prop.requires_recreation == "Always" else ""
        lines.append(f"{prop.name}: {values}{forced}".replace(": (", " ("))
    return lines


def _cut(value: str | None) -> str:
    if value is None:
        return "(none)"
    return value if len(value) <= VALUE_WIDTH else value[: VALUE_WIDTH - 3] + "..."


def render_plan(
    cli: CliContext,
    plan: MeshPlan,
    *,
    cost: CostEstimate | None = None,
    quotas: QuotaReport | None = None,
) -> None:
    if cli.json_output:
        from meshlink.cli.render_cost import with_cost

        cli.emit_json(with_cost(plan.to_dict(), cost, quotas))
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
            replace = " (replacement)" if change.replacement in ("True", "Conditional") else ""
            table.add_row(
                "",
                "",
                f"[dim]{change.action}[/dim]",
                f"[dim]{change.logical_id} {change.resource_type}{replace}[/dim]",
            )
            for line in property_lines(change):
                table.add_row("", "", "", f"[dim]  {escape(line)}[/dim]")
        if node.action != "repair":
            for what in node.drift:  # a repair's detail says it already
                table.add_row("", "", "[yellow]drift[/yellow]", escape(what))
    cli.console.print(table)
    totals = plan.totals()
    cli.console.print(
        f"plan: {totals['create']} to create, {totals['update']} to update, "
        + (f"{totals['replace']} to replace, " if "replace" in totals else "")
        + f"{totals['delete']} to delete, {totals['unchanged']} unchanged, "
        f"{plural(totals['reconcile'], 'acceptance step')}"
        + (f", {totals['repair']} to repair (drift)" if totals.get("repair") else "")
    )
    if plan.estimate is not None:
        cli.console.print(escape(plan.estimate.line()))
    from meshlink.cli.render_cost import render_cost_and_quotas

    render_cost_and_quotas(cli, cost, quotas)
