"""The commented starter topology that `meshlink init` writes."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from meshlink.errors import UsageError


def starter_text() -> str:
    return resources.files("meshlink.topology").joinpath("starter.yaml").read_text("utf-8")


def write_starter(path: Path, *, force: bool) -> Path:
    """Write the starter topology to `path`; refuse to overwrite unless `force`."""
    if path.exists() and not force:
        raise UsageError(
            f"{path} already exists", hint="pass --force to overwrite it, or -f another path"
        )
    path.write_text(starter_text(), encoding="utf-8")
    return path
