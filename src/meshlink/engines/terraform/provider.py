"""Can Terraform obtain the hashicorp/aws provider here? (for network.engine: auto)"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from meshlink.engines.terraform.cli_config import CliSetup, aws_provider_dirs, write_cli_config
from meshlink.engines.terraform.errors import TerraformUnavailable
from meshlink.engines.terraform.root import AWS_PROVIDER_SOURCE, AWS_PROVIDER_VERSION
from meshlink.engines.terraform.runner import (
    TerraformExecutable,
    TerraformRunner,
    default_plugin_cache,
)
from meshlink.errors import MeshlinkError

PROBE_TIMEOUT = 20.0


def cli_setup(config_dir: Path) -> CliSetup:
    """meshlink's CLI config for its Terraform runs, written into `config_dir`."""
    return write_cli_config(config_dir, os.environ, default_plugin_cache())


def unavailable_reason(error: TerraformUnavailable) -> str:
    """One line saying why init could not obtain the provider (for engine: auto's notice)."""
    first = next((d.summary for d in error.diagnostics), None) or error.message.splitlines()[0]
    detail = next((d.detail for d in error.diagnostics if d.detail), "")
    reason = f"terraform init cannot obtain hashicorp/aws: {first}"
    if "no such host" in detail or "dial tcp" in detail:
        reason += " (registry.terraform.io unreachable)"
    return reason


def _installed_in(workdir: Path) -> bool:
    return any(
        base.is_dir() and any(base.iterdir())
        for base in aws_provider_dirs(workdir / ".terraform" / "providers")
    )


def provider_available(
    workdir: Path,
    *,
    executable: TerraformExecutable | None = None,
    timeout: float = PROBE_TIMEOUT,
    config_dir: Path | None = None,
) -> tuple[bool, str]:
    """Whether Terraform can obtain hashicorp/aws, and a one-line reason.

    Looks (cheaply) in `workdir`'s installed providers, then in the directories meshlink's
    CLI config installs from (cli_config: the user's mirrors, MESHLINK_TF_PROVIDER_MIRROR,
    the plugin cache), which it writes into `config_dir` (default `workdir`) so that
    what is found here is what init installs. Only then tries a real `init` of a
    throw-away root, bounded by `timeout` (offline it fails in well under a second).
    """
    if _installed_in(workdir):
        return True, f"hashicorp/aws is already installed in {workdir}"
    setup = cli_setup(config_dir or workdir)
    if setup.sources:
        return True, setup.describe()
    try:
        with tempfile.TemporaryDirectory(prefix="meshlink-tf-probe-") as probe:
            root = {
                "terraform": {
                    "required_providers": {
                        "aws": {"source": AWS_PROVIDER_SOURCE, "version": AWS_PROVIDER_VERSION}
                    }
                }
            }
            (Path(probe) / "main.tf.json").write_text(json.dumps(root), encoding="utf-8")
            TerraformRunner(
                Path(probe), account="(probe)", executable=executable, setup=setup
            ).init(timeout=timeout)
    except TerraformUnavailable as exc:
        return False, unavailable_reason(exc)
    except MeshlinkError as exc:
        return False, f"terraform init failed: {exc.message.splitlines()[0]}"
    return True, "terraform init downloaded hashicorp/aws from the registry"
