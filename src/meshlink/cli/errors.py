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
            "[yellow]interrupted[/yellow]: running nodes stopped at their next step "
            "(CloudFormation finishes what it started); run the same command again to resume"
        )
        return EXIT_INTERRUPTED
    error = _from_aws(error)
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


CREDENTIAL_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
}


def _from_aws(error: BaseException) -> BaseException:
    """AWS SDK errors raised outside a node (plan, status, rebuild) as meshlink errors."""
    module = type(error).__module__
    if not module.startswith(("botocore", "boto3")):
        return error
    from meshlink.engines.cdk.waiting import error_code
    from meshlink.errors import DeployError, EnvironmentProblem

    code = error_code(error)
    name = type(error).__name__
    if code in CREDENTIAL_CODES or name in (
        "NoCredentialsError",
        "PartialCredentialsError",
        "ProfileNotFound",
        "NoRegionError",
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "SSOTokenLoadError",
        "TokenRetrievalError",
    ):
        return EnvironmentProblem(
            f"AWS: {error}",
            hint="check your credentials, profile and network (target: local: meshlink local "
            "status)",
        )
    return DeployError(f"AWS: {error}")
