"""The one place where errors become messages and exit codes."""

from __future__ import annotations

import traceback

from rich.console import Console
from rich.markup import escape

from meshlink.errors import EXIT_INTERRUPTED, MeshlinkError, TopologyError


def report_error(error: BaseException, console: Console, *, debug: bool) -> int:
    """Print `error` for a person and return the exit code it maps to."""
    if debug:
        console.print(escape("".join(traceback.format_exception(error))), style="dim")
    if isinstance(error, KeyboardInterrupt):
        _quiet_node_shutdown()
        console.print(
            "[yellow]interrupted[/yellow]: nodes that were running finished first; "
            "run the same command again to resume"
        )
        return EXIT_INTERRUPTED
    if isinstance(error, TopologyError):
        for problem in error.problems:
            console.print(escape(problem.render(error.path)))
        count = len(error.problems)
        console.print(
            f"[bold red]{count} problem{'s' if count > 1 else ''}[/bold red] in {error.path}; "
            "nothing was touched"
        )
        return error.exit_code
    if isinstance(error, MeshlinkError):
        console.print(f"[bold red]error:[/bold red] {escape(error.message)}")
        if error.hint:
            console.print(f"[cyan]hint:[/cyan] {escape(error.hint)}")
        return error.exit_code
    console.print(f"[bold red]internal error:[/bold red] {escape(repr(error))}")
    console.print("[cyan]hint:[/cyan] rerun with --debug for the traceback and report it")
    return 1


def _quiet_node_shutdown() -> None:
    """Ctrl-C also reached jsii's Node process; its exit hook then hits a closed pipe.

    That is expected after an interrupt, so it must not print a traceback.
    """
    import sys

    previous = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, BrokenPipeError) and "jsii" in repr(unraisable.object):
            return
        previous(unraisable)

    sys.unraisablehook = hook
