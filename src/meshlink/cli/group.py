"""The root command group: global options anywhere, every error mapped to an exit code."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from typer._click import exceptions as click_exceptions  # typer vendors click
from typer.core import TyperGroup

from meshlink.cli.errors import report_error

# Global options (name -> takes a value) that users also write after the command.
GLOBAL_OPTIONS = {"-f": True, "--file": True, "--env": True, "--json": False, "--debug": False}
# Command groups whose subcommands use these short options for themselves (logs -f).
KEEPS_SHORT_OPTIONS = {"local"}
PASSTHROUGH = (typer.Exit, typer.Abort, click_exceptions.ClickException)


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options written after the command name in front of it."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    seen_command = False
    command = ""
    while index < len(args):
        arg = args[index]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest.extend(args[index:])
            break
        short_kept = command in KEEPS_SHORT_OPTIONS and not name.startswith("--")
        if seen_command and name in GLOBAL_OPTIONS and not short_kept:
            takes_value = GLOBAL_OPTIONS[name] and "=" not in arg
            front.extend(args[index : index + 1 + int(takes_value)])
            index += 1 + int(takes_value)
            continue
        if not arg.startswith("-") and not seen_command:
            seen_command = True
            command = arg
            rest.append(arg)
        elif not seen_command:
            front.append(arg)
            if GLOBAL_OPTIONS.get(name) and "=" not in arg and index + 1 < len(args):
                front.append(args[index + 1])
                index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


class MeshlinkGroup(TyperGroup):
    """Runs a subcommand; MeshlinkError and interrupts become a message + exit code."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PASSTHROUGH:
            raise
        except (Exception, KeyboardInterrupt) as error:
            debug = bool(getattr(ctx.obj, "debug", False))
            console = Console(stderr=True, highlight=False, soft_wrap=True)
            raise typer.Exit(report_error(error, console, debug=debug)) from error
