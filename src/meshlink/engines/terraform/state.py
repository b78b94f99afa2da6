"""Reading a root's local state file without starting Terraform (or its 700 MB provider).

The state file format is Terraform's internal one, but its top-level `outputs` and
`resources` (version 4, since Terraform 0.12) are what `terraform output -json` and
`terraform show -json` print from; meshlink reads only those.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StateResource:
    """One managed resource instance recorded in state."""

    address: str  # module.network.aws_subnet.private["use1-az1"]
    type: str
    attributes: dict[str, Any]


def read_state(path: Path) -> dict[str, Any] | None:
    """The state document, or None when there is none (never applied, or destroyed)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def state_outputs(path: Path) -> dict[str, Any] | None:
    """{name: value} of the root's outputs, as `terraform output -json` gives them."""
    document = read_state(path)
    if document is None:
        return None
    outputs = document.get("outputs") or {}
    return {name: entry.get("value") for name, entry in outputs.items() if isinstance(entry, dict)}


def _address(resource: dict[str, Any], instance: dict[str, Any]) -> str:
    base = f"{resource['type']}.{resource['name']}"
    if resource.get("module"):
        base = f"{resource['module']}.{base}"
    key = instance.get("index_key")
    if isinstance(key, str):
        return f'{base}["{key}"]'
    return base if key is None else f"{base}[{key}]"


def managed_resources(source: Path | dict[str, Any] | None) -> Iterator[StateResource]:
    """Every managed (not data) resource instance in a state file or state document."""
    document = (read_state(source) if isinstance(source, Path) else source) or {}
    for resource in document.get("resources") or []:
        if resource.get("mode") != "managed":
            continue
        for instance in resource.get("instances") or []:
            yield StateResource(
                _address(resource, instance),
                str(resource.get("type")),
                dict(instance.get("attributes") or {}),
            )
