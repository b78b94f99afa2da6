"""`meshlink verify`: control-plane checks and traffic probes; exit 0 only when all pass."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from meshlink.cli.context import get_context


class Only(StrEnum):
    control = "control"
    traffic = "traffic"


def verify(
    ctx: typer.Context,
    only: Only | None = typer.Option(None, "--only", help="Run only control or traffic checks."),
    deep: bool = typer.Option(
        False, "--deep", help="Also try an endpoint from an account that is not allowed."
    ),
    junit: Path | None = typer.Option(None, "--junit", help="Write a JUnit XML report here."),
    concurrency: int = typer.Option(
        8, "--concurrency", "-c", min=1, help="Checks and probes in flight at once."
    ),
    probe_timeout: float = typer.Option(
        5.0, "--probe-timeout", min=0.1, help="Seconds a probe waits for an answer."
    ),
    task_timeout: float | None = typer.Option(
        None, "--task-timeout", min=1.0, help="Seconds a probe task may take, start-up included."
    ),
    probe_image: str | None = typer.Option(
        None,
        "--probe-image",
        help="Image the probe tasks run for this run (default: the topology's probe_image, "
        "as `up` deployed it); pin it by digest.",
    ),
    settle_timeout: float | None = typer.Option(
        None,
        "--settle-timeout",
        min=0.0,
        help="Seconds to wait for a mesh still converging (new tasks) before checking "
        "(default: the --timeout deadline).",
    ),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        min=1.0,
        help="Seconds each wait (settling, a probe task) may last "
        "(default: AWS budgets, scaled to the local cloud's timing).",
    ),
    workdir: Path | None = typer.Option(
        None, "--workdir", help="Where .meshlink/ state lives (default: beside the topology file)."
    ),
) -> None:
    """Prove every edge works and nothing else is reachable (control plane + traffic)."""
    from rich.markup import escape

    from meshlink.errors import VerifyFailed
    from meshlink.verify.context import VerifyOptions
    from meshlink.verify.report import junit as to_junit
    from meshlink.verify.report import to_json
    from meshlink.verify.runner import runtime_for
    from meshlink.verify.runner import verify as run_verify
    from meshlink.verify.table import failure_lines, render_table, summary_line

    cli = get_context(ctx)
    options = VerifyOptions(
        only=only.value if only else None,
        deep=deep,
        concurrency=concurrency,
        probe_timeout=probe_timeout,
        task_timeout=task_timeout,
        probe_image=probe_image,
        settle_timeout=settle_timeout,
    )
    with cli.err_console.status("verifying...") as status:
        notice = cli.err_console.print
        runtime = runtime_for(
            cli.topology(),
            cli.workdir(workdir),
            notice=lambda m: notice(f"[dim]{escape(m)}[/dim]"),
            timeout=timeout,
        )

        def progress(result: object, done: int, total: int) -> None:
            status.update(f"verifying: {done}/{total} checks done")

        report = run_verify(runtime, options, progress)
    if junit is not None:
        junit.write_text(to_junit(report), encoding="utf-8")
    if cli.json_output:
        cli.emit_json(to_json(report))
    else:
        cli.console.print(render_table(report))
        cli.console.print(summary_line(report))
    if not report.ok:
        for line in failure_lines(report):
            cli.err_console.print(line)
        count = len(report.failures())
        raise VerifyFailed(
            f"{count} check{'s' if count != 1 else ''} failed",
            hint="the evidence of each check is in `meshlink verify --json`",
        )


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
