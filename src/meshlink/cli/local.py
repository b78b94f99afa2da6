"""`meshlink local start|stop|status|logs`: the embedded local cloud."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from meshlink.cli.context import get_context
from meshlink.errors import LocalCloudNotRunning


def local_help() -> str:
    """The group's help, with the port `local start` would use now."""
    import os

    from meshlink.localcloud.info import default_port

    source = ", from $MESHLINK_LOCAL_PORT" if os.environ.get("MESHLINK_LOCAL_PORT") else ""
    try:
        port = str(default_port())
    except ValueError:
        port, source = "unknown", ": $MESHLINK_LOCAL_PORT is not a number"
    return f"The local cloud: an AWS emulator on localhost (port {port}{source})."


class LocalGroup(TyperGroup):
    """`meshlink local`: its help is written when shown, so it names the port in effect."""

    def get_help(self, ctx: Any) -> str:
        self.help = local_help()
        return super().get_help(ctx)

    def get_short_help_str(self, limit: int = 45) -> str:
        self.help = local_help()
        return super().get_short_help_str(limit)


local_app = typer.Typer(name="local", cls=LocalGroup, help=local_help(), no_args_is_help=True)

STATE_DIR_OPTION = typer.Option(
    None,
    "--state-dir",
    help="State directory (default $MESHLINK_STATE_DIR or ~/.local/state/meshlink).",
)


@local_app.command("start")
def start(
    ctx: typer.Context,
    port: int | None = typer.Option(
        None, "--port", help="Port on localhost (default $MESHLINK_LOCAL_PORT or 4580; 0 = any)."
    ),
    state_dir: Path | None = STATE_DIR_OPTION,
    timing: str | None = typer.Option(
        None,
        "--timing",
        help="instant (default; $MESHLINK_LOCAL_TIMING) or aws: each resource takes its AWS "
        "duration x --time-scale, with AWS's eventual consistency.",
    ),
    time_scale: float | None = typer.Option(
        None,
        "--time-scale",
        help="F: AWS durations x F under --timing aws (default $MESHLINK_LOCAL_TIME_SCALE or 1).",
    ),
    consistency: str | None = typer.Option(
        None,
        "--consistency",
        help="on | off: reads lag behind writes as on AWS (default $MESHLINK_LOCAL_CONSISTENCY;"
        " on under --timing aws).",
    ),
) -> None:
    """Start the local cloud in the background (does nothing if it already runs)."""
    from meshlink.localcloud import clock, daemon

    cli = get_context(ctx)
    asked = timing or time_scale is not None or consistency
    chosen = clock.parse(timing, time_scale, consistency) if asked else None
    began = time.perf_counter()
    info = daemon.start(port=port, state_dir=state_dir, timing=chosen)
    if cli.json_output:
        cli.emit_json({**info.to_dict(), "start_seconds": round(time.perf_counter() - began, 3)})
        return
    cli.console.print(f"local cloud running at [bold]{info.endpoint_url}[/bold] (pid {info.pid})")
    cli.console.print(f"timing: {clock.Timing.from_dict(info.timing).describe()}")
    cli.console.print(f"logs: {info.log_file}")


@local_app.command("stop")
def stop(ctx: typer.Context, state_dir: Path | None = STATE_DIR_OPTION) -> None:
    """Stop the local cloud; everything it held is gone."""
    from meshlink.localcloud import daemon

    cli = get_context(ctx)
    stopped = daemon.stop(state_dir)
    if cli.json_output:
        cli.emit_json({"stopped": stopped is not None, "pid": stopped.pid if stopped else None})
        return
    cli.console.print(
        f"local cloud stopped (pid {stopped.pid})" if stopped else "local cloud was not running"
    )


@local_app.command("status")
def status(
    ctx: typer.Context,
    state_dir: Path | None = STATE_DIR_OPTION,
    json_flag: bool = typer.Option(False, "--json", help="Machine-readable JSON output."),
) -> None:
    """Endpoint, pid, uptime and resource counts; exit code 3 when not running."""
    from meshlink.localcloud import daemon

    cli = get_context(ctx)
    report = daemon.status(state_dir)
    if cli.json_output or json_flag:
        cli.emit_json(report.to_dict())
    elif not report.running:
        cli.console.print(
            "local cloud: [red]not running[/red]  (start it with: meshlink local start)"
        )
    else:
        _render_status(cli.console, report)
    if not report.running:
        raise LocalCloudNotRunning


def _render_status(console: object, report: object) -> None:
    from rich.console import Console
    from rich.table import Table

    from meshlink.localcloud.daemon import LocalCloudStatus

    assert isinstance(console, Console) and isinstance(report, LocalCloudStatus)
    assert report.info is not None
    console.print(f"local cloud: [green]running[/green] at [bold]{report.info.endpoint_url}[/bold]")
    console.print(
        f"pid {report.info.pid}, up {report.uptime_seconds or 0:.0f}s, logs {report.info.log_file}"
    )
    from meshlink.localcloud.clock import Timing

    console.print(f"timing: {Timing.from_dict(report.info.timing).describe()}")
    if not report.totals:
        console.print("no resources yet")
        return
    table = Table("resource", "count")
    for kind, count in sorted(report.totals.items()):
        table.add_row(kind, str(count))
    console.print(table)
    console.print(f"accounts: {', '.join(sorted(report.accounts)) or '-'}")


@local_app.command("logs")
def logs(
    ctx: typer.Context,
    service: str | None = typer.Argument(
        None, help="A service (or run-<family>, or task id): its tasks' logs instead."
    ),
    lines: int = typer.Option(100, "-n", "--lines", help="How many lines from the end."),
    follow: bool = typer.Option(False, "-f", "--follow", help="Keep printing new lines."),
    state_dir: Path | None = STATE_DIR_OPTION,
) -> None:
    """Print the local cloud's log, or the logs of a service's tasks."""
    import sys

    from meshlink.localcloud import daemon

    if service is not None:
        from meshlink.errors import UsageError
        from meshlink.localcloud.dataplane.api import read_task_log, task_logs

        found = task_logs(service, state_dir=state_dir)
        if not found:
            raise UsageError(
                f"no task logs for {service!r}",
                hint="name a service of a deployed mesh; see: meshlink local processes",
            )
        for log in found:
            sys.stdout.write(f"==> {log.account}/{log.cluster}/{log.name} task {log.task_id}\n")
            sys.stdout.write(read_task_log(log.path, lines))
        sys.stdout.flush()
        return
    sys.stdout.write(daemon.read_log(state_dir, lines))
    sys.stdout.flush()
    if follow:
        for chunk in daemon.follow_log(state_dir):
            sys.stdout.write(chunk)
            sys.stdout.flush()


@local_app.command("resolve")
def resolve(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="An endpoint or load balancer DNS name."),
    state_dir: Path | None = STATE_DIR_OPTION,
) -> None:
    """Print the loopback address a DNS name of the local cloud resolves to."""
    from meshlink.localcloud.dataplane.api import resolve as resolve_name

    address = resolve_name(name, state_dir=state_dir)
    cli = get_context(ctx)
    if cli.json_output:
        cli.emit_json({"name": name, "address": address})
    else:
        typer.echo(address)


@local_app.command("processes")
def processes(ctx: typer.Context, state_dir: Path | None = STATE_DIR_OPTION) -> None:
    """List the task processes the local cloud runs (all fields with --json)."""
    from meshlink.localcloud.dataplane.api import processes as list_processes

    cli = get_context(ctx)
    found = list_processes(state_dir=state_dir)
    if cli.json_output:
        cli.emit_json(found)
        return
    if not found:
        cli.console.print("no task processes")
        return
    cli.console.print(processes_table(found))
    cli.console.print(
        "[dim]logs: meshlink local logs SERVICE; all fields: meshlink --json local processes[/dim]",
        soft_wrap=False,
    )


def processes_table(found: list[dict[str, Any]]) -> Any:
    """What a person scans for: service, account, state, address, pid, task id (never cut)."""
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("service", overflow="fold")
    table.add_column("account", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("address", overflow="fold")
    table.add_column("pid", justify="right", no_wrap=True)
    table.add_column("task", overflow="fold")
    for row in sorted(found, key=lambda r: (str(r.get("name")), str(r.get("task_arn")))):
        ports = ",".join(str(p) for p in row.get("ports") or [])
        address = (
            f"{row.get('address') or '-'}:{ports}" if ports else str(row.get("address") or "-")
        )
        style = "green" if row.get("state") == "RUNNING" else "yellow"
        table.add_row(
            str(row.get("name") or row.get("service") or "-"),
            str(row.get("account") or "-"),
            f"[{style}]{row.get('state') or '-'}[/{style}]",
            address,
            str(row.get("pid") or "-"),
            str(row.get("task_arn") or "-").rsplit("/", 1)[-1],
        )
    return table


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")
