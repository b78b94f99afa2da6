"""The one way out: every error becomes a message and an exit code in cli/errors.py."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import typer
from botocore.exceptions import ClientError, EndpointConnectionError
from rich.console import Console
from typer.testing import CliRunner

import meshlink.cli
from meshlink.cli.errors import exit_code, report_error
from meshlink.cli.group import MeshlinkGroup
from meshlink.errors import (
    EXIT_BAD_INPUT,
    EXIT_ENVIRONMENT,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    AlreadyReported,
    Declined,
    DeployError,
    LocalCloudNotRunning,
    Problem,
    RunFailed,
    TopologyError,
    UsageError,
)


def report(error: BaseException, *, debug: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False, soft_wrap=True, color_system=None)
    code = report_error(error, console, debug=debug)
    return code, out.getvalue()


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "refused"}}, "CreateStack")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("bad option"), EXIT_BAD_INPUT),
        (TopologyError(path="m.yaml", problems=[Problem("x", 1, 1)]), EXIT_BAD_INPUT),
        (DeployError("broke"), EXIT_FAILURE),
        (LocalCloudNotRunning(), EXIT_ENVIRONMENT),
        (RunFailed(action="up", failed=["net"]), EXIT_FAILURE),
        (Declined(question="Deploy?"), EXIT_FAILURE),
        (AlreadyReported(UsageError("x")), EXIT_BAD_INPUT),
        (EndpointConnectionError(endpoint_url="http://localhost:1"), EXIT_ENVIRONMENT),
        (EndpointConnectionError(endpoint_url="https://sts.amazonaws.com"), EXIT_ENVIRONMENT),
        (client_error("ExpiredToken"), EXIT_ENVIRONMENT),
        (client_error("InvalidServiceName"), EXIT_FAILURE),
        (KeyboardInterrupt(), EXIT_INTERRUPTED),
        (ValueError("bug"), EXIT_FAILURE),
    ],
)
def test_exit_code_of_each_kind_of_error(error: BaseException, code: int) -> None:
    assert exit_code(error) == code


def test_unreachable_endpoint_exits_3_with_a_hint() -> None:
    code, text = report(EndpointConnectionError(endpoint_url="https://sts.amazonaws.com"))
    assert code == EXIT_ENVIRONMENT
    assert text == (
        'error: AWS: Could not connect to the endpoint URL: "https://sts.amazonaws.com"\n'
        "hint: check your credentials, profile and network (target: local: meshlink local "
        "status)\n"
    )


def test_unreachable_local_cloud_exits_3_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(tmp_path))
    code, text = report(EndpointConnectionError(endpoint_url="http://localhost:1/"))
    assert code == EXIT_ENVIRONMENT
    assert text == (
        "error: the local cloud at http://localhost:1 stopped answering\n"
        f"hint: its log: {tmp_path}/localcloud.log\n"
        "start it with: meshlink local start\n"
        "then run the same command again\n"
    )


def test_client_error_exits_1_carrying_its_code() -> None:
    code, text = report(client_error("InvalidServiceName"))
    assert code == EXIT_FAILURE
    assert text == (
        "error: AWS: An error occurred (InvalidServiceName) when calling the CreateStack "
        "operation: refused\n"
    )


def test_meshlink_error_prints_message_and_hint() -> None:
    code, text = report(UsageError("no such file", hint="pass -f"))
    assert (code, text) == (EXIT_BAD_INPUT, "error: no such file\nhint: pass -f\n")


def test_unexpected_error_is_an_internal_error() -> None:
    code, text = report(ValueError("bug"))
    assert code == EXIT_FAILURE
    assert text.startswith("internal error: ValueError('bug')\nhint: rerun with --debug")


@pytest.mark.parametrize(
    "error",
    [
        RunFailed(action="up", failed=["users/net"]),
        Declined(question="Deploy?"),
        LocalCloudNotRunning(),
        AlreadyReported(TopologyError(path="m.yaml", problems=[Problem("x", 1, 1)])),
    ],
)
def test_an_error_already_shown_prints_nothing_more(error: BaseException) -> None:
    assert report(error) == (exit_code(error), "")
    assert report(error, debug=True) == (exit_code(error), "")  # no traceback either


def test_the_root_group_exits_through_report_error() -> None:
    app = typer.Typer(cls=MeshlinkGroup)

    @app.command("up")
    def up() -> None:
        print("up failed in 0.1s: 1 failed")
        raise RunFailed(action="up", failed=["users/net"])

    @app.command("plan")
    def plan() -> None:
        raise EndpointConnectionError(endpoint_url="https://sts.amazonaws.com")

    runner = CliRunner()
    failed = runner.invoke(app, ["up"], catch_exceptions=False)
    assert (failed.exit_code, failed.stdout, failed.stderr) == (
        EXIT_FAILURE,
        "up failed in 0.1s: 1 failed\n",
        "",
    )
    unreachable = runner.invoke(app, ["plan"], catch_exceptions=False)
    assert unreachable.exit_code == EXIT_ENVIRONMENT
    assert "hint: check your credentials" in unreachable.stderr


def test_no_command_exits_with_a_number_of_its_own() -> None:
    numbered_exit = re.compile(r"typer\.Exit\(\s*[^)\s]")
    cli_dir = Path(meshlink.cli.__file__).parent
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(cli_dir.glob("*.py"))
        if path.name != "group.py"  # the handler: turns report_error's code into the exit
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if numbered_exit.search(line)
    ]
    assert offenders == []
