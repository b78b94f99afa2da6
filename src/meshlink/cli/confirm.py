"""Confirmation before `up` and `down` change a mesh: what will change, then a y/N prompt.

Off a terminal nobody can answer, so without --yes the command refuses (exit 2) before
it reads or touches anything.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from meshlink.cli.context import CliContext
from meshlink.errors import Declined, UsageError
from meshlink.words import plural

if TYPE_CHECKING:
    from meshlink.deploy.plan import MeshPlan
    from meshlink.deploy.status import Teardown

# How many nodes a prompt lists by name before it only counts the rest.
LISTED = 20


def stdin_is_terminal() -> bool:
    """Whether a person can answer a prompt (tests replace this)."""
    return sys.stdin.isatty()


def require_terminal(cli: CliContext, command: str, yes: bool) -> bool:
    """True when the command must ask; refuse (exit 2) when it must but cannot."""
    if yes:
        return False
    if not stdin_is_terminal():
        raise UsageError(
            f"`meshlink {command}` changes the mesh and asks first, "
            "but stdin is not a terminal: nobody can answer; nothing was touched",
            hint=f"to {command} without being asked, add --yes: meshlink {command} --yes",
        )
    return True


def _console(cli: CliContext) -> Console:
    # With --json, stdout carries only JSON: the question goes to stderr.
    return cli.err_console if cli.json_output else cli.console


def ask(cli: CliContext, question: str) -> None:
    """y/N at the terminal; a "no" raises Declined after saying nothing was changed."""
    console = _console(cli)
    if typer.confirm(question, default=False, err=cli.json_output):
        return
    console.print("[yellow]not confirmed[/yellow]: nothing was changed")
    raise Declined(question=question)


def show_plan(cli: CliContext, plan: MeshPlan) -> None:
    """The plan's summary: creates, updates, replacements, deletes; then the nodes changed."""
    console = _console(cli)
    totals = plan.totals()
    recreated = [
        change
        for node in plan.nodes
        for change in node.changes
        if change.replacement in ("True", "Conditional")
    ]
    surely = sum(1 for change in recreated if change.replacement == "True")
    line = (
        f"up will: [green]{totals.get('create', 0)} to create[/green], "
        f"[yellow]{totals.get('update', 0)} to update[/yellow], "
        f"[magenta]{totals.get('replace', 0)} to replace[/magenta], "
        f"[red]{totals.get('delete', 0)} to delete[/red], "
        f"{totals.get('unchanged', 0)} unchanged"
    )
    if recreated:
        maybe = len(recreated) - surely
        line += f"; {plural(surely, 'resource')} recreated"
        line += f" ({maybe} more may be)" if maybe else ""
    console.print(line, soft_wrap=False)
    changed = [n for n in plan.nodes if n.action in ("create", "update", "replace", "delete")]
    for node in changed[:LISTED]:
        detail = f"  [dim]{escape(node.detail)}[/dim]" if node.detail else ""
        console.print(f"  {node.action:<7} {escape(node.node)}{detail}")
    if len(changed) > LISTED:
        console.print(f"  … and {len(changed) - LISTED} more (meshlink plan lists them all)")


def show_teardown(cli: CliContext, teardown: Teardown) -> None:
    """What down will delete: each node present now, and stacks the topology lost."""
    console = _console(cli)
    total = len(teardown.present) + len(teardown.orphans)
    console.print(f"down will delete [red]{plural(total, 'node')}[/red]:")
    lines = [
        f"  delete  {escape(node.node)}"
        + (f"  [dim]{escape(node.stack)}[/dim]" if node.stack else "")
        for node in teardown.present
    ]
    lines += [
        f"  delete  {escape(stack)}  [dim]no longer in the topology[/dim]"
        for stack in teardown.orphans
    ]
    for line in lines[:LISTED]:
        console.print(line)
    if len(lines) > LISTED:
        console.print(f"  … and {len(lines) - LISTED} more")
