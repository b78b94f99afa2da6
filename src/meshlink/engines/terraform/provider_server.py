"""One hashicorp/aws provider process per Terraform command, instead of one per walk.

`terraform apply` starts the provider afresh for each of its graph walks (validate, plan,
apply); the 700 MB binary costs seconds of CPU at every start, which on a small machine
running several accounts at once is most of the network stage. Terraform can instead
attach to a provider that is already running (TF_REATTACH_PROVIDERS, the mechanism of
the provider's own debug mode and of terraform-plugin-testing): meshlink starts it once
for the command, hands its address to Terraform, and stops it when the command ends.

https://developer.hashicorp.com/terraform/plugin/debugging#running-terraform-with-a-provider-in-debug-mode

One provider process serves one command (never two at once: each command configures
it with its own account's credentials). It is not used when AWS_CA_BUNDLE is set for an
AWS target: provider 5.x fails to configure twice in one process with a custom CA
bundle ("unable to add custom RootCAs HTTPClient"); the local cloud is plain HTTP, so
there the variable is dropped for the provider.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from meshlink import subprocess_runner
from meshlink.engines.terraform.cli_config import aws_provider_dirs, terraform_platform

ENV_REATTACH = "TF_REATTACH_PROVIDERS"
START_TIMEOUT = 120.0
_MARKER = f"{ENV_REATTACH}='"


def provider_binary(data_dir: Path) -> Path | None:
    """The installed hashicorp/aws provider executable in a Terraform data dir, if any."""
    for base in aws_provider_dirs(data_dir / "providers"):
        found = sorted(base.glob(f"*/{terraform_platform()}/terraform-provider-aws_*"))
        if found:
            return found[-1]
    return None


def reattach_config(log_text: str) -> str | None:
    """The TF_REATTACH_PROVIDERS value a provider in debug mode printed, once it has."""
    start = log_text.find(_MARKER)
    if start < 0:
        return None
    end = log_text.find("'", start + len(_MARKER))
    if end < 0:
        return None
    value = log_text[start + len(_MARKER) : end]
    json.loads(value)  # a half-written line raises, and the caller reads again
    return value


def _wait_for_config(process: subprocess.Popen[str], log_path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = reattach_config(log_path.read_text(encoding="utf-8", errors="replace"))
        except ValueError:
            found = None
        if found:
            return found
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"the aws provider did not start in debug mode (see {log_path})")


@contextmanager
def shared_provider(
    binary: Path, env: Mapping[str, str], log_path: Path, *, timeout: float = START_TIMEOUT
) -> Iterator[str | None]:
    """Run the provider for one command; yields the TF_REATTACH_PROVIDERS value.

    Yields None when the provider could not be started this way: the command then starts
    its own providers, as Terraform always does.
    """
    process = subprocess_runner.background(
        [str(binary), "-debug"], env=env, cwd=log_path.parent, log_path=log_path
    )
    try:
        try:
            config: str | None = _wait_for_config(process, log_path, timeout)
        except RuntimeError:
            config = None
        yield config
    finally:
        subprocess_runner.stop(process)
