"""The one place where errors become messages and exit codes."""

from __future__ import annotations

import traceback

from rich.console import Console
from rich.markup import escape

from meshlink.errors import EXIT_FAILURE, EXIT_INTERRUPTED, MeshlinkError, TopologyError


def exit_code(error: BaseException) -> int:
    """The exit code `error` ends the CLI with: the one mapping from errors to codes."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    error = as_meshlink_error(error)
    return error.exit_code if isinstance(error, MeshlinkError) else EXIT_FAILURE


def as_meshlink_error(error: BaseException) -> BaseException:
    """`error` as the MeshlinkError it stands for (AWS SDK errors are mapped), else itself."""
    if isinstance(error, MeshlinkError):
        return error
    from meshlink.aws.errors import from_sdk_error, is_sdk_error

    return from_sdk_error(error) if is_sdk_error(error) else error


def report_error(error: BaseException, console: Console, *, debug: bool) -> int:
    """Print `error` for a person and return the exit code it maps to."""
    code = exit_code(error)
    if isinstance(error, MeshlinkError) and error.reported:
        return code  # the command has shown it already; a traceback would add nothing
    if debug:
        console.print(escape("".join(traceback.format_exception(error))), style="dim")
    error = as_meshlink_error(error)
    if isinstance(error, KeyboardInterrupt):
        _quiet_node_shutdown()
        console.print(
            "[yellow]interrupted[/yellow]: running nodes stopped at their next step "
            "(CloudFormation finishes what it started); run the same command again to resume"
        )
    elif isinstance(error, TopologyError):
        for problem in error.problems:
            console.print(escape(problem.render(error.path)))
        count = len(error.problems)
        console.print(
            f"[bold red]{count} problem{'s' if count > 1 else ''}[/bold red] in {error.path}; "
            "nothing was touched"
        )
    elif isinstance(error, MeshlinkError):
        console.print(f"[bold red]error:[/bold red] {escape(error.message)}")
        if error.hint:
            console.print(f"[cyan]hint:[/cyan] {escape(error.hint)}")
    else:
        console.print(f"[bold red]internal error:[/bold red] {escape(repr(error))}")
        console.print("[cyan]hint:[/cyan] rerun with --debug for the traceback and report it")
    return code


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
