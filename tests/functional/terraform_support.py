"""The real hashicorp/aws provider for tests: from a mirror, the plugin cache or the registry.

`make test` names the machine's offline mirror in MESHLINK_TF_PROVIDER_MIRROR (the
Makefile finds it). Most tests deploy with `engine: auto` and should not pay for
Terraform, so the suite sets the mirror aside (`set_aside`, from conftest) with a plugin
cache of its own that never receives the provider; tests that need Terraform call
`require_aws_provider()` (skipping, saying why, only when no provider can be had), put
`real_mirror()` back and give their runs a plugin cache of their own.
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

import pytest

from meshlink.engines.terraform.cli_config import ENV_MIRROR, has_aws_provider

# Where the set-aside mirror list waits: pytest-xdist workers start after the main
# process configured itself, and inherit its environment, not its variables.
ENV_ASIDE = "MESHLINK_TEST_PROVIDER_MIRROR"


def set_aside(cache_home: Path) -> None:
    """Hide the named mirror and the user's plugin cache from tests that did not ask."""
    os.environ[ENV_ASIDE] = os.environ.pop(ENV_MIRROR, "") or os.environ.get(ENV_ASIDE, "")
    os.environ["XDG_CACHE_HOME"] = str(cache_home)
    os.environ.pop("TF_PLUGIN_CACHE_DIR", None)


def real_mirror() -> Path | None:
    """The first directory of the set-aside mirror list that holds hashicorp/aws."""
    for named in os.environ.get(ENV_ASIDE, os.environ.get(ENV_MIRROR, "")).split(os.pathsep):
        if named and has_aws_provider(Path(named)):
            return Path(named)
    return None


@cache
def _provider_problem() -> str | None:
    if real_mirror() is not None:
        return None
    from meshlink.engines.terraform.provider import provider_available

    with (
        tempfile.TemporaryDirectory(prefix="meshlink-provider-") as probe,
        pytest.MonkeyPatch.context() as patch,
    ):
        # Its own plugin cache: a provider the probe downloads must not reach the suite's.
        patch.setenv("TF_PLUGIN_CACHE_DIR", str(Path(probe) / "plugin-cache"))
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
