"""What a task process runs: its command line and environment.

* The entrypoint is the container's ``meshlink.local.command`` docker label (a JSON
  list) when present, else the bundled service: ``python -m meshlink_service``.
* A container ``command`` (task definition, or ``RunTask`` container override) is, as
  in Docker, arguments to that entrypoint - unless it starts with an executable
  (``python``/``python3``, an absolute path, or a program on PATH), in which case it
  is the whole command. So ``["probe", URL, "--expect-service", N]`` runs the bundled
  service's probe, and ``["python", "-c", ...]`` runs Python.
* The environment is the container's (plus overrides), with every endpoint or NLB DNS
  name replaced by its loopback address, plus ``PORT``, ``SERVICE_NAME``, ``HOST``
  (where to listen) and ``BIND_ADDRESS`` (the task's ENI: the source of its calls).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LABEL = "meshlink.local.command"
DEFAULT_PORT = 8080
# Names that the local cloud should know but does not (yet): the task waits for them.
_AWS_NAME = re.compile(r"[A-Za-z0-9.-]+\.(?:vpce\.amazonaws\.com|elb\.[a-z0-9-]+\.amazonaws\.com)")
_PYTHON = re.compile(r"^python(?:3(?:\.\d+)?)?$")
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "VIRTUAL_ENV", "PYTHONPATH")


class CommandError(ValueError):
    """The task's container asks for something the local cloud cannot run."""


def get(mapping: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """`key` in camelCase, or its PascalCase spelling (CloudFormation-made definitions)."""
    if key in mapping:
        return mapping[key]
    return mapping.get(key[:1].upper() + key[1:], default)


def _pairs(items: Any) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items or []:
        name = get(item, "name")
        if name is not None:
            result[str(name)] = str(get(item, "value", ""))
    return result


def container_override(overrides: Mapping[str, Any] | None, name: str | None) -> dict[str, Any]:
    """The ``containerOverrides`` entry for container `name` (or the only one)."""
    entries = list(get(overrides or {}, "containerOverrides", []) or [])
    for entry in entries:
        if get(entry, "name") == name:
            return dict(entry)
    return dict(entries[0]) if len(entries) == 1 and not get(entries[0], "name") else {}


def container_ports(container: Mapping[str, Any]) -> tuple[int, ...]:
    ports = [
        int(get(m, "containerPort"))
        for m in get(container, "portMappings", []) or []
        if get(m, "containerPort") is not None
    ]
    return tuple(dict.fromkeys(ports))


def _default_entrypoint() -> list[str]:
    return [sys.executable, "-m", "meshlink_service"]


def _is_executable(word: str) -> bool:
    return bool(_PYTHON.match(word)) or Path(word).is_absolute() or shutil.which(word) is not None


def build_command(container: Mapping[str, Any], override: Mapping[str, Any]) -> list[str]:
    """The argv of the task's process."""
    labels = get(container, "dockerLabels", {}) or {}
    raw = labels.get(LABEL)
    if raw is not None:
        try:
            entrypoint = json.loads(raw) if isinstance(raw, str) else list(raw)
        except ValueError as error:
            raise CommandError(f"docker label {LABEL} is not a JSON list: {error}") from None
        if (
            not isinstance(entrypoint, list)
            or not entrypoint
            or not all(isinstance(part, str) for part in entrypoint)
        ):
            raise CommandError(f"docker label {LABEL} must be a non-empty JSON list of strings")
    else:
        entrypoint = _default_entrypoint()
    args = get(override, "command") or get(container, "command") or []
    args = [str(part) for part in args]
    command = args if args and _is_executable(args[0]) else list(entrypoint) + args
    if _PYTHON.match(command[0]):
        command[0] = sys.executable  # the venv's Python: it has meshlink_service installed
    return command


def rewrite(value: str, names: Mapping[str, str]) -> str:
    """`value` with every known DNS name replaced by its address (longest names first)."""
    if not names or "." not in value:
        return value
    lowered = value.lower()
    for name in sorted(names, key=len, reverse=True):
        if name in lowered:
            value = re.sub(re.escape(name), names[name], value, flags=re.IGNORECASE)
            lowered = value.lower()
    return value


def unresolved_names(env: Mapping[str, str]) -> list[str]:
    """AWS endpoint/NLB DNS names still present in `env` (after rewriting)."""
    return sorted({m.group(0) for v in env.values() for m in _AWS_NAME.finditer(v)})


def service_pythonpath() -> str | None:
    """service/src of a source checkout, when meshlink_service is not installed."""
    if importlib.util.find_spec("meshlink_service") is not None:
        return None
    candidate = Path(__file__).resolve().parents[5] / "service" / "src"
    return str(candidate) if (candidate / "meshlink_service").is_dir() else None


def base_env() -> dict[str, str]:
    """What every task's environment starts from: the few variables passed through from
    the local cloud's, and the path to the bundled service in a source checkout."""
    env = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
    extra = service_pythonpath()
    if extra:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, env.get("PYTHONPATH")) if p)
    return env


def build_env(
    container: Mapping[str, Any],
    override: Mapping[str, Any],
    *,
    service_name: str,
    port: int | None,
    host: str,
    bind_address: str,
    names: Mapping[str, str],
) -> dict[str, str]:
    """The task's environment (see the module docstring)."""
    env = base_env()
    declared = _pairs(get(container, "environment"))
    declared.update(_pairs(get(override, "environment")))
    env.update({k: rewrite(v, names) for k, v in declared.items()})
    env.setdefault("SERVICE_NAME", service_name)
    env["PORT"] = str(port or declared.get("PORT") or DEFAULT_PORT)
    env["HOST"] = host
    env["BIND_ADDRESS"] = bind_address
    env["PYTHONUNBUFFERED"] = "1"
    return env
