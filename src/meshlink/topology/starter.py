"""The commented starter topology that `meshlink init` writes, unique to its project."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from meshlink.errors import UsageError

# The starter's longest service, notification-service, leaves 11 characters of the 32 a
# load balancer name may have (<mesh>-notification-service).
NAME_LIMIT = 11
FALLBACK_NAME = "mesh"
STARTER_ACCOUNTS = ("users", "notify")


@dataclass(frozen=True)
class Starter:
    """What `meshlink init` wrote: where, and the mesh's name and identity."""

    path: Path
    name: str
    mesh_id: str


def mesh_name_for(folder: Path) -> str:
    """A valid mesh name from a folder name: lower-case, '-' for the rest, a letter first."""
    text = re.sub(r"[^a-z0-9]+", "-", folder.name.lower())
    text = re.sub(r"^[^a-z]+", "", text)[:NAME_LIMIT].strip("-")
    return text or FALLBACK_NAME


def new_mesh_id() -> str:
    """A fresh mesh identity: 16 random hex digits."""
    return secrets.token_hex(8)


def local_account_id(mesh_id: str, account: str) -> str:
    """A 12-digit local-cloud account id that only this mesh (and account key) uses."""
    digest = hashlib.sha256(f"{mesh_id}:{account}".encode()).hexdigest()
    # No leading zero: some tools read account ids as numbers.
    return str(10**11 + int(digest, 16) % (9 * 10**11))


def starter_text(name: str, mesh_id: str) -> str:
    """The starter topology for mesh `name` with identity `mesh_id`."""
    template = resources.files("meshlink.topology").joinpath("starter.yaml").read_text("utf-8")
    values = {"__NAME__": name, "__MESH_ID__": mesh_id}
    for account in STARTER_ACCOUNTS:
        values[f"__{account.upper()}_ID__"] = local_account_id(mesh_id, account)
    for marker, value in values.items():
        template = template.replace(marker, value)
    return template


def write_starter(path: Path, *, force: bool) -> Starter:
    """Write a starter topology named after `path`'s folder, with a fresh identity.

    Refuses to overwrite unless `force`.
    """
    if path.exists() and not force:
        raise UsageError(
            f"{path} already exists", hint="pass --force to overwrite it, or -f another path"
        )
    starter = Starter(path, mesh_name_for(path.resolve().parent), new_mesh_id())
    path.write_text(starter_text(starter.name, starter.mesh_id), encoding="utf-8")
    return starter
