"""The real hashicorp/aws provider for tests: from a mirror, the plugin cache or the registry.

`make test` names the machine's offline mirror in MESHLINK_TF_PROVIDER_MIRROR (the
Makefile finds it); elsewhere Terraform gets the provider as the user's configuration
says. Tests that need it skip only when it cannot be had at all, and say why.
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

import pytest

from meshlink.engines.terraform.cli_config import ENV_MIRROR, has_aws_provider


@cache
def _provider_problem() -> str | None:
    named = [p for p in os.environ.get(ENV_MIRROR, "").split(os.pathsep) if p]
    if any(has_aws_provider(Path(p)) for p in named):
        return None
    from meshlink.engines.terraform.provider import provider_available

    with tempfile.TemporaryDirectory(prefix="meshlink-provider-") as probe:
        available, reason = provider_available(Path(probe))
    if available:
        return None
    return (
        f"the hashicorp/aws provider cannot be had here ({reason}); name a provider mirror "
        f"in {ENV_MIRROR} (make test finds the machine's) or let Terraform reach the registry"
    )


def require_aws_provider() -> None:
    """Skip the calling test, saying why, when no hashicorp/aws provider can be had."""
    problem = _provider_problem()
    if problem:
        pytest.skip(problem)


def real_mirror() -> Path | None:
    """The first directory of MESHLINK_TF_PROVIDER_MIRROR that holds hashicorp/aws."""
    for named in os.environ.get(ENV_MIRROR, "").split(os.pathsep):
        if named and has_aws_provider(Path(named)):
            return Path(named)
    return None
