"""Errors raised by the Terraform engine, carrying Terraform's own diagnostics."""

from __future__ import annotations

from collections.abc import Sequence

from meshlink.engines.terraform.events import Diagnostic
from meshlink.errors import DeployError, EnvironmentProblem

# stderr noise that says nothing about the failure.
_NOISE = ("There are some problems with the CLI configuration", "Unable to open CLI configuration")


def _stderr_tail(stderr: str, lines: int = 15) -> list[str]:
    text = stderr.strip()
    if any(marker in text for marker in _NOISE):
        # Drop the boxed CLI-config warning block Terraform prints on every run.
        kept, skipping = [], False
        for line in text.splitlines():
            if any(marker in line for marker in _NOISE):
                skipping = True
            if skipping:
                if line.startswith("╵"):
                    skipping = False
                continue
            kept.append(line)
        text = "\n".join(kept).strip()
    return text.splitlines()[-lines:] if text else []


def _describe(account: str, stage: str, diagnostics: Sequence[Diagnostic], stderr: str) -> str:
    errors = [d for d in diagnostics if d.severity == "error"] or list(diagnostics)
    head = f"terraform {stage} failed for account {account}"
    body = [d.render() for d in errors] or _stderr_tail(stderr)
    return head + (":\n" + "\n".join(body) if body else "")


class TerraformError(DeployError):
    """A Terraform command failed; `diagnostics` holds what Terraform reported."""

    def __init__(
        self,
        *,
        account: str,
        stage: str,
        diagnostics: Sequence[Diagnostic] = (),
        stderr: str = "",
        returncode: int | None = None,
        hint: str | None = None,
    ):
        self.account = account
        self.stage = stage
        self.diagnostics = tuple(diagnostics)
        self.stderr = stderr
        self.returncode = returncode
        super().__init__(_describe(account, stage, self.diagnostics, stderr), hint=hint)


class TerraformUnavailable(EnvironmentProblem):
    """Terraform, or the provider it needs, cannot be obtained on this machine."""

    def __init__(
        self,
        message: str,
        *,
        diagnostics: Sequence[Diagnostic] = (),
        hint: str | None = None,
    ):
        self.diagnostics = tuple(diagnostics)
        details = [d.render() for d in self.diagnostics if d.severity == "error"]
        super().__init__(message + ("\n" + "\n".join(details) if details else ""), hint=hint)


PROVIDER_HINT = (
    "let Terraform reach registry.terraform.io once, or provide hashicorp/aws through a "
    "filesystem mirror (terraform providers mirror DIR, then provider_installation in "
    "~/.terraformrc), or set network.engine: cdk"
)

# Summaries of init diagnostics that mean "the provider cannot be had", not "bad config".
PROVIDER_FAILURES = (
    "Failed to query available provider packages",
    "Failed to install provider",
    "Failed to resolve provider packages",
    "Failed to retrieve available versions",
    "Provider registry",
    "registry.terraform.io",
    "registry.opentofu.org",
)


def is_provider_failure(diagnostics: Sequence[Diagnostic]) -> bool:
    return any(
        marker in f"{d.summary} {d.detail}" for d in diagnostics for marker in PROVIDER_FAILURES
    )
