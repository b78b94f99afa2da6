"""The root typer app: global options, command registration, error handling."""

from __future__ import annotations

from pathlib import Path

from meshlink import collector

# Before the imports below: they alone triggered ~130 young collections (collector.py).
collector.tune_for_command()

import typer  # noqa: E402

from meshlink import __version__  # noqa: E402
from meshlink.cli.context import CliContext  # noqa: E402
from meshlink.cli.group import MeshlinkGroup  # noqa: E402

app = typer.Typer(
    name="meshlink",
    cls=MeshlinkGroup,
    help="Deploy a PrivateLink mesh of microservices across AWS accounts, and prove it works.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"meshlink {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    file: Path = typer.Option(
        Path("meshlink.yaml"), "-f", "--file", help="Topology file.", envvar="MESHLINK_FILE"
    ),
    environment: str | None = typer.Option(
        None,
        "--env",
        help="Environment overlay of the topology (its environments: section) to use.",
        envvar="MESHLINK_ENV",
    ),
    json_output: bool = typer.Option(False, "--json", help="Machine-readable JSON output."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Global options for every command."""
    ctx.obj = CliContext(file=file, json_output=json_output, debug=debug, environment=environment)


def main() -> None:
    """Console-script entry point."""
    app()


def _register() -> None:
    # Command modules import only light things at top level: --help must stay instant.
    from meshlink.cli import commands

    commands.register(app)


_register()


if __name__ == "__main__":
    main()
