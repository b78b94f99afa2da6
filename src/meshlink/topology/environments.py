"""Environments: one topology file for dev, staging and prod.

`environments: {staging: {...}}` holds overlays. `meshlink --env staging <command>` lays
the staging overlay over the base (mappings merge key by key; anything else, lists
included, is replaced) and keeps each overlaid value's own file location, so a problem
in the merged result points at the overlay's line. An environment is a mesh of its own:
its name is `<name>-<env>` (so its stacks and its state directory differ) and its
identity is derived from the base's, so two environments never touch each other's stacks.
"""

from __future__ import annotations

import hashlib
from typing import Any

from meshlink.errors import Problem, UsageError
from meshlink.topology.locations import Locations, PathKey

KEY = "environments"


def environment_names(data: Any) -> list[str]:
    """The environments the (raw) topology defines, in file order."""
    overlays = data.get(KEY) if isinstance(data, dict) else None
    return [str(name) for name in overlays] if isinstance(overlays, dict) else []


def select_environment(
    data: dict[str, Any], locations: Locations, environment: str
) -> tuple[dict[str, Any], Locations, list[Problem]]:
    """The base with `environment`'s overlay laid over it, and where each value came from."""
    names = environment_names(data)
    if environment not in names:
        known = ", ".join(names) if names else "none"
        raise UsageError(
            f"environment '{environment}' is not defined (environments: {known})",
            hint=f"add environments: {{{environment}: {{...}}}} to the topology, or pick one "
            "of those",
        )
    overlay = data[KEY][environment]
    where: PathKey = (KEY, environment)
    if overlay is None:
        overlay = {}
    if not isinstance(overlay, dict):
        line, col = locations.of_value(where)
        problem = Problem(
            f"environments.{environment} must be a mapping of values to overlay",
            line,
            col,
            "e.g. staging: {services: {api: {desired_count: 1}}}",
        )
        return data, locations, [problem]
    merged = _merge(data, overlay, locations, (), where)
    merged.pop(KEY, None)
    merged["name"] = _name(data.get("name"), environment)
    if isinstance(data.get("mesh_id"), str):
        merged["mesh_id"] = environment_mesh_id(data["mesh_id"], environment)
    return merged, locations, []


def environment_mesh_id(base: str, environment: str) -> str:
    """The environment's mesh id: stable, distinct per environment, 16 hex digits."""
    return hashlib.sha256(f"{base}/{environment}".encode()).hexdigest()[:16]


def _name(base: Any, environment: str) -> Any:
    return f"{base}-{environment}" if isinstance(base, str) else base


def _merge(
    base: dict[str, Any],
    overlay: dict[str, Any],
    locations: Locations,
    path: PathKey,
    from_path: PathKey,
) -> dict[str, Any]:
    """`base` with `overlay` merged in; locations under `path` re-pointed at the overlay."""
    merged = dict(base)
    for key, value in overlay.items():
        here, there = (*path, key), (*from_path, key)
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value, locations, here, there)
            locations.keys[here] = locations.of_key(there)
            continue
        merged[key] = value
        _repoint(locations, here, there)
    return merged


def _repoint(locations: Locations, here: PathKey, there: PathKey) -> None:
    """Every location at or below `here` now comes from `there` in the overlay."""
    for table in (locations.values, locations.keys):
        for stale in [p for p in table if p[: len(here)] == here]:
            del table[stale]
        for path, found in list(table.items()):
            if path[: len(there)] == there:
                table[(*here, *path[len(there) :])] = found
