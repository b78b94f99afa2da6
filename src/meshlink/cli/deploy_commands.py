"""`meshlink plan | up | down | status`: thin commands over meshlink.deploy."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from meshlink.cli.context import CliContext, get_context
from meshlink.errors import Declined, RunFailed

if TYPE_CHECKING:
    from meshlink.deploy.runtime import MeshRuntime


class Only(StrEnum):
    network = "network"
    services = "services"


CONCURRENCY = typer.Option(8, "--concurrency", "-c", min=1, help="Nodes deployed at once.")
ONLY = typer.Option(None, "--only", help="Deploy only the network or only the services.")
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
ADOPT = typer.Option(
    False,
    "--adopt",
    help="Take over stacks that carry another mesh's identity (they become this mesh's).",
)
WORKDIR = typer.Option(
    None, "--workdir", help="Where .meshlink/ state lives (default: beside the topology file)."
)


def _runtime(
    cli: CliContext,
    concurrency: int,
    only: Only | None,
    workdir: Path | None,
    *,
    adopt: bool = False,
    read_only: bool = False,
) -> MeshRuntime:
    from meshlink.deploy.runtime import MeshRuntime, RunOptions

    options = RunOptions(
        concurrency=concurrency,
        only=only.value if only else None,
        workdir=cli.workdir(workdir),
        adopt=adopt,
        read_only=read_only,
        topology_file=cli.file,
    )
    notice = cli.err_console.print
    return MeshRuntime(cli.topology(), options, notice=lambda m: notice(f"[dim]{m}[/dim]"))


def _confirm(cli: CliContext, question: str, yes: bool) -> None:
    import sys

    if yes or cli.json_output or not sys.stdin.isatty():
        return  # prompt only a person at a terminal
    if not typer.confirm(question, default=False):
        raise Declined(question=question)


def plan(
    ctx: typer.Context,
    concurrency: int = CONCURRENCY,
    only: Only | None = ONLY,
    adopt: bool = ADOPT,
    workdir: Path | None = WORKDIR,
) -> None:
    """Show what `up` would create, update or leave unchanged; touches nothing."""
    from meshlink.cli.render_plan import render_plan
    from meshlink.deploy.plan import plan as make_plan

    cli = get_context(ctx)
    result = make_plan(_runtime(cli, concurrency, only, workdir, adopt=adopt, read_only=True))
    render_plan(cli, result)


def up(
    ctx: typer.Context,
    concurrency: int = CONCURRENCY,
    only: Only | None = ONLY,
    yes: bool = YES,
    adopt: bool = ADOPT,
    workdir: Path | None = WORKDIR,
) -> None:
    """Deploy the mesh: network, stacks, connection acceptance. Resumes after a failure."""
    from meshlink.cli.render_deploy import render_edges, run_with_progress
    from meshlink.deploy.run import up as run_up
    from meshlink.deploy.status import edge_states

    cli = get_context(ctx)
    topology = cli.topology()
    _confirm(cli, f"Deploy mesh {topology.name} to {topology.target}?", yes)
    runtime = _runtime(cli, concurrency, only, workdir, adopt=adopt)
    report = run_with_progress(cli, runtime, run_up)
    if report.ok and only != Only.network:
        render_edges(cli, edge_states(runtime))
    if not report.ok:
        raise RunFailed(action=report.action, failed=list(report.failures()))


def down(
    ctx: typer.Context,
    concurrency: int = CONCURRENCY,
    only: Only | None = ONLY,
    yes: bool = YES,
    adopt: bool = ADOPT,
    workdir: Path | None = WORKDIR,
) -> None:
    """Delete everything the mesh deployed, in reverse order; safe to run again."""
    from meshlink.cli.render_deploy import run_with_progress
    from meshlink.deploy.run import down as run_down

    cli = get_context(ctx)
    topology = cli.topology()
    _confirm(cli, f"Delete mesh {topology.name} from {topology.target}?", yes)
    runtime = _runtime(cli, concurrency, only, workdir, adopt=adopt)
    report = run_with_progress(cli, runtime, run_down, reverse=True)
    if not report.ok:
        raise RunFailed(action=report.action, failed=list(report.failures()))


def status(ctx: typer.Context, workdir: Path | None = WORKDIR) -> None:
    """What is deployed, per node and per edge, read from the stacks."""
    from meshlink.cli.render_deploy import render_status
    from meshlink.deploy.status import mesh_status

    cli = get_context(ctx)
    render_status(cli, mesh_status(_runtime(cli, 8, None, workdir, read_only=True)))


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
