"""`meshlink plan | up | down | status`: thin commands over meshlink.deploy."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from meshlink.cli.context import CliContext, get_context
from meshlink.errors import RunFailed

if TYPE_CHECKING:
    from meshlink.deploy.runtime import MeshRuntime


class Only(StrEnum):
    network = "network"
    services = "services"


# Help texts say what each command does with the option: plan deploys nothing.
CONCURRENCY = {
    "plan": typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        help="Accepted so plan takes up's options; plan reads one node at a time.",
    ),
    "up": typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        help="Nodes deployed at once (default: every node whose dependencies are done).",
    ),
    "down": typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        help="Nodes deleted at once (default: every node whose dependants are gone).",
    ),
}
# Every wait's deadline (stacks, service stability, acceptance); default: scaled to the
# timing in force (AWS budgets, or the local cloud's time scale), see meshlink/deadlines.py.
TIMEOUT = typer.Option(
    None,
    "--timeout",
    min=1.0,
    help="Seconds each wait may last (default: AWS budgets, scaled to the local cloud's timing).",
)
ONLY = {
    "plan": typer.Option(None, "--only", help="Plan only the network or only the services."),
    "up": typer.Option(None, "--only", help="Deploy only the network or only the services."),
    "down": typer.Option(None, "--only", help="Delete only the network or only the services."),
}
YES = typer.Option(
    False,
    "--yes",
    "-y",
    help="Do not ask for confirmation (required when stdin is not a terminal).",
)
ADOPT = {
    "plan": typer.Option(
        False, "--adopt", help="Plan as if taking over stacks that carry another mesh's identity."
    ),
    "up": typer.Option(
        False,
        "--adopt",
        help="Take over stacks that carry another mesh's identity (they become this mesh's).",
    ),
    "down": typer.Option(
        False,
        "--adopt",
        help="Take over stacks that carry another mesh's identity (they become this mesh's).",
    ),
}
NO_REPAIR = typer.Option(
    False,
    "--no-repair",
    help="Leave drift alone (resources changed by hand): deploy only what the topology changed.",
)
WORKDIR = typer.Option(
    None, "--workdir", help="Where .meshlink/ state lives (default: beside the topology file)."
)
TRAFFIC = typer.Option(
    10.0,
    "--traffic",
    min=0.0,
    metavar="GB_PER_MONTH",
    help="Traffic the cost estimate assumes: GB a month on each edge, and per account to AWS "
    "and the internet (through NAT or the AWS service endpoints).",
)


def _runtime(
    cli: CliContext,
    concurrency: int | None,
    only: Only | None,
    workdir: Path | None,
    *,
    adopt: bool = False,
    read_only: bool = False,
    timeout: float | None = None,
    reuse: MeshRuntime | None = None,
) -> MeshRuntime:
    from meshlink.deploy.runtime import MeshRuntime, RunOptions

    options = RunOptions(
        concurrency=concurrency,
        timeout=timeout,
        only=only.value if only else None,
        workdir=cli.workdir(workdir),
        adopt=adopt,
        read_only=read_only,
        topology_file=cli.file,
    )
    notice = cli.err_console.print
    # `reuse`: a runtime of the same command whose synthesis (a cache read or a Node run)
    # serves this one too.
    synthesize = (lambda runtime: reuse.synthesized()) if reuse is not None else None
    return MeshRuntime(
        cli.topology(),
        options,
        notice=lambda m: notice(f"[dim]{m}[/dim]"),
        synthesize=synthesize,
    )


def plan(
    ctx: typer.Context,
    concurrency: int | None = CONCURRENCY["plan"],
    only: Only | None = ONLY["plan"],
    adopt: bool = ADOPT["plan"],
    workdir: Path | None = WORKDIR,
    timeout: float | None = TIMEOUT,
    traffic: float = TRAFFIC,
) -> None:
    """Show what `up` would create, update or leave unchanged, what the mesh costs and
    whether its AWS quotas allow it; touches nothing."""
    from meshlink.cli.render_plan import render_plan
    from meshlink.cost.estimate import Assumptions, estimate
    from meshlink.deploy.plan import plan as make_plan
    from meshlink.quotas.preflight import preflight

    cli = get_context(ctx)
    runtime = _runtime(
        cli, concurrency, only, workdir, adopt=adopt, read_only=True, timeout=timeout
    )
    preflight(runtime, cli.file, templates=False)  # exit 2 before anything is read
    result = make_plan(runtime)
    quotas = preflight(runtime, cli.file)  # the templates plan synthesized
    cost = estimate(runtime.topology, Assumptions(traffic_gb=traffic))
    render_plan(cli, result, cost=cost, quotas=quotas)


def up(
    ctx: typer.Context,
    concurrency: int | None = CONCURRENCY["up"],
    only: Only | None = ONLY["up"],
    yes: bool = YES,
    adopt: bool = ADOPT["up"],
    workdir: Path | None = WORKDIR,
    timeout: float | None = TIMEOUT,
    no_repair: bool = NO_REPAIR,
    traffic: float = TRAFFIC,
) -> None:
    """Deploy the mesh: network, stacks, connection acceptance. Resumes after a failure.
    Repairs drift (what `plan` lists as repair), then verifies the repaired nodes."""
    from functools import partial

    from meshlink.cli import confirm
    from meshlink.cli.render_cost import render_cost_summary
    from meshlink.cli.render_deploy import render_edges, run_with_progress
    from meshlink.cost.estimate import Assumptions, estimate
    from meshlink.deploy.run import up as run_up
    from meshlink.deploy.status import edge_states
    from meshlink.quotas.preflight import preflight

    cli = get_context(ctx)
    topology = cli.topology()
    cli.print_notes()
    ask = confirm.require_terminal(cli, "up", yes)
    preview = _runtime(
        cli, concurrency, only, workdir, adopt=adopt, read_only=True, timeout=timeout
    )
    # Quotas before anything is deployed (or asked): a mesh over one fails with exit 2.
    preflight(preview, cli.file)
    cost = estimate(topology, Assumptions(traffic_gb=traffic))
    if ask:
        from meshlink.deploy.plan import plan as make_plan

        confirm.show_plan(cli, make_plan(preview))
        confirm.ask(cli, f"Deploy mesh {topology.name} to {topology.target}?")
    runtime = _runtime(cli, concurrency, only, workdir, adopt=adopt, timeout=timeout, reuse=preview)
    report = run_with_progress(
        cli,
        runtime,
        partial(run_up, repair=False) if no_repair else run_up,
        summary_extra={"cost": cost.to_dict()},
    )
    if report.ok and only != Only.network:
        render_edges(cli, edge_states(runtime))
    if report.ok and not cli.json_output:
        render_cost_summary(cli, cost)
    if not report.ok:
        raise RunFailed(action=report.action, failed=list(report.failures()))


def down(
    ctx: typer.Context,
    concurrency: int | None = CONCURRENCY["down"],
    only: Only | None = ONLY["down"],
    yes: bool = YES,
    adopt: bool = ADOPT["down"],
    workdir: Path | None = WORKDIR,
    timeout: float | None = TIMEOUT,
) -> None:
    """Delete everything the mesh deployed, in reverse order; safe to run again."""
    from meshlink.cli import confirm
    from meshlink.cli.render_deploy import run_with_progress
    from meshlink.deploy.run import down as run_down
    from meshlink.deploy.status import teardown

    cli = get_context(ctx)
    topology = cli.topology()
    ask = confirm.require_terminal(cli, "down", yes)
    # What is there now: the prompt lists it, and the summary tells a node that was
    # deleted from one that was never there.
    found = teardown(_runtime(cli, concurrency, only, workdir, adopt=adopt, read_only=True))
    if ask and not found.empty:
        confirm.show_teardown(cli, found)
        confirm.ask(cli, f"Delete mesh {topology.name} from {topology.target}?")
    runtime = _runtime(cli, concurrency, only, workdir, adopt=adopt, timeout=timeout)
    report = run_with_progress(cli, runtime, run_down, reverse=True, absent=found.absent)
    if not report.ok:
        raise RunFailed(action=report.action, failed=list(report.failures()))


def status(ctx: typer.Context, workdir: Path | None = WORKDIR) -> None:
    """What is deployed, per node and per edge, read from the stacks.

    Exit code 0 only when every node the journal records is live and healthy.
    """
    from meshlink.cli.render_deploy import render_status
    from meshlink.deploy.status import mesh_status
    from meshlink.errors import AlreadyReported, DeployError

    cli = get_context(ctx)
    found = mesh_status(_runtime(cli, 8, None, workdir, read_only=True))
    render_status(cli, found)
    if not found.ok:
        # The summary line (or the JSON document with "ok": false) has said it all.
        raise AlreadyReported(DeployError(found.summary()))


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
