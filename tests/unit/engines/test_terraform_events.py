"""Terraform's -json lines as typed events, diagnostics and error messages."""

from __future__ import annotations

import json

from meshlink.engines.terraform.errors import TerraformError, is_provider_failure
from meshlink.engines.terraform.events import (
    ChangeSummary,
    Diagnostic,
    DiagnosticEvent,
    LogMessage,
    PlannedChange,
    ResourceCompleted,
    ResourceFailed,
    ResourceStarted,
    parse_line,
)

RESOURCE = {"addr": "aws_vpc.this", "resource_type": "aws_vpc", "resource_name": "this"}


def line(**data: object) -> str:
    return json.dumps({"@level": "info", "@message": "m", **data})


def test_apply_hooks_become_resource_events() -> None:
    start = parse_line(
        "a", line(type="apply_start", hook={"resource": RESOURCE, "action": "create"})
    )
    assert start == ResourceStarted("a", "aws_vpc.this", "create")
    done = parse_line(
        "a",
        line(
            type="apply_complete",
            hook={
                "resource": RESOURCE,
                "action": "create",
                "id_value": "vpc-1",
                "elapsed_seconds": 2,
            },
        ),
    )
    assert done == ResourceCompleted("a", "aws_vpc.this", "create", 2.0, "vpc-1")
    failed = parse_line(
        "a", line(type="apply_errored", hook={"resource": RESOURCE, "action": "delete"})
    )
    assert failed == ResourceFailed("a", "aws_vpc.this", "delete", 0.0)


def test_plan_events() -> None:
    planned = parse_line(
        "a", line(type="planned_change", change={"resource": RESOURCE, "action": "update"})
    )
    assert planned == PlannedChange("a", "aws_vpc.this", "update")
    summary = parse_line(
        "a",
        line(
            type="change_summary", changes={"add": 3, "change": 1, "remove": 2, "operation": "plan"}
        ),
    )
    assert summary == ChangeSummary("a", "plan", 3, 1, 2)
    assert isinstance(summary, ChangeSummary) and summary.has_changes
    assert not ChangeSummary("a", "apply").has_changes


def test_diagnostic_keeps_summary_detail_and_location() -> None:
    event = parse_line(
        "a",
        line(
            type="diagnostic",
            diagnostic={
                "severity": "error",
                "summary": "Invalid value for variable",
                "detail": "az_count must be a whole number from 1 to 6.",
                "range": {"filename": "variables.tf", "start": {"line": 27, "column": 1}},
            },
        ),
    )
    assert isinstance(event, DiagnosticEvent)
    diag = event.diagnostic
    assert diag.location == "variables.tf:27:1"
    assert diag.render() == (
        "variables.tf:27:1: error: Invalid value for variable\n"
        "  az_count must be a whole number from 1 to 6."
    )


def test_plain_and_unknown_lines() -> None:
    assert parse_line("a", "") is None
    assert parse_line("a", "not json") == LogMessage("a", "info", "not json")
    assert parse_line("a", line(type="version", terraform="1.15.5")) is None
    assert parse_line("a", line(type="init_output", message_code="x")) == LogMessage(
        "a", "info", "m"
    )


def test_terraform_error_message_lists_error_diagnostics_only() -> None:
    error = TerraformError(
        account="users",
        stage="apply",
        diagnostics=[
            Diagnostic("warning", "Deprecated"),
            Diagnostic("error", "Boom", "it broke", "main.tf", 3, 5, "aws_vpc.this"),
        ],
    )
    assert error.exit_code == 1
    assert error.message == (
        "terraform apply failed for account users:\n"
        "main.tf:3:5: error: Boom (aws_vpc.this)\n  it broke"
    )


def test_terraform_error_falls_back_to_stderr_without_the_cli_config_noise() -> None:
    stderr = (
        "There are some problems with the CLI configuration:\n╷\n"
        "│ Warning: Unable to open CLI configuration file\n╵\n\nflag provided but not defined: -x\n"
    )
    error = TerraformError(account="users", stage="plan", stderr=stderr)
    assert (
        error.message
        == "terraform plan failed for account users:\nflag provided but not defined: -x"
    )


def test_provider_failures_are_recognised() -> None:
    assert is_provider_failure([Diagnostic("error", "Failed to query available provider packages")])
    assert not is_provider_failure([Diagnostic("error", "Unsupported argument")])
