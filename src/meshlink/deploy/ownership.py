"""A mesh owns its stacks: their meshlink:mesh-id tag says which mesh of a name made them.

Two projects can pick the same mesh name in the same accounts (a copied topology file).
Stack names alone would then let the second take the first's stacks for its own and break
them, so `up`, `down`, `plan` and the journal rebuild refuse stacks that carry another
identity, unless the user says `--adopt` (then `up` re-tags them as this mesh's).
Stacks deployed before meshes had identities carry no tag and belong to whoever has the
name, as they always did.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from meshlink.deploy.handlers.model import HEALTHY
from meshlink.deploy.live import MESH_ID_TAG, LiveStack
from meshlink.deploy.runtime import MeshRuntime
from meshlink.errors import DeployError, EnvironmentProblem
from meshlink.topology.identity import describe_identity
from meshlink.topology.model import Topology

GONE = frozenset({"DELETE_COMPLETE"})
# Stacks in these states are re-tagged in place; the run replaces or updates the others
# (with this mesh's tags) like any stack of the mesh.
RETAGGABLE = HEALTHY | {"UPDATE_ROLLBACK_COMPLETE"}
SHOWN = 3
RETAG_POLL = 2.0
RETAG_TIMEOUT = 30 * 60.0


@dataclass(frozen=True)
class ForeignStack:
    """A stack named for this mesh that another mesh (identity) deployed."""

    account_id: str
    stack: LiveStack


class ForeignStacks(EnvironmentProblem):
    """Stacks named for this mesh carry another mesh's identity; nothing was touched."""

    def __init__(self, *, topology: Topology, found: Sequence[ForeignStack]):
        self.mesh = topology.name
        self.identity = topology.identity
        self.found = list(found)
        others = ", ".join(sorted({describe_identity(f.stack.mesh_id) for f in self.found}))
        names = sorted(f"{f.stack.name} in {f.account_id}" for f in self.found)
        more = f", ... ({len(names)} in all)" if len(names) > SHOWN else ""
        super().__init__(
            f"stacks of mesh {self.mesh} belong to another mesh with that name ({others}); "
            f"this topology is mesh {self.mesh} with {describe_identity(self.identity)}: "
            f"{', '.join(names[:SHOWN])}{more}",
            hint=f"another project uses the name '{self.mesh}' in these accounts: rename this "
            "mesh (name: in the topology file; `meshlink init` writes a unique name and "
            "mesh_id), or, if this file is meant to take those stacks over, run the same "
            "command with --adopt",
        )


def find_foreign(runtime: MeshRuntime) -> list[ForeignStack]:
    """Live stacks named for this mesh, in its accounts past and present, that carry
    another identity."""
    from meshlink.deploy.orphans import accounts_to_search

    topology = runtime.topology
    found: list[ForeignStack] = []
    for account_id in sorted(accounts_to_search(runtime)):
        for stack in runtime.stacks.stacks(account_id).values():
            if stack.status not in GONE and stack.mesh_id not in (None, topology.identity):
                found.append(ForeignStack(account_id, stack))
    return found


def ensure_owned(runtime: MeshRuntime) -> list[ForeignStack]:
    """The foreign stacks of the mesh, allowed only with --adopt.

    Without --adopt they raise ForeignStacks (exit 3) before anything is touched.
    """
    found = find_foreign(runtime)
    if found and not runtime.options.adopt:
        raise ForeignStacks(topology=runtime.topology, found=found)
    if found:
        others = ", ".join(sorted({describe_identity(f.stack.mesh_id) for f in found}))
        runtime.notice(f"--adopt: taking over {len(found)} stacks of {others}")
    return found


def adopt_stacks(runtime: MeshRuntime, found: Sequence[ForeignStack]) -> None:
    """Re-tag `found` (from ensure_owned) with this mesh's identity (`up --adopt`)."""
    for foreign in found:
        if foreign.stack.status in RETAGGABLE:
            retag(runtime, foreign)
    if found:
        identity = describe_identity(runtime.topology.identity)
        runtime.notice(f"adopted {len(found)} stacks: they now carry {identity}")


def retag(runtime: MeshRuntime, foreign: ForeignStack) -> None:
    """Update the stack in place (same template and parameters) with this mesh's identity.

    UpdateStack, not a change set: a change set that changes only tags lists no change
    on the local cloud. Parameters are passed as described (meshlink's stacks have no
    NoEcho parameter).
    """
    from meshlink.engines.cdk.deployer import CAPABILITIES

    client = runtime.sessions.client(foreign.account_id, "cloudformation")
    name = foreign.stack.name
    described = client.describe_stacks(StackName=name)["Stacks"][0]
    tags = {k: v for k, v in foreign.stack.tags.items() if not k.startswith("aws:")}
    tags[MESH_ID_TAG] = runtime.topology.identity
    client.update_stack(
        StackName=name,
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": p["ParameterKey"], "ParameterValue": str(p.get("ParameterValue", ""))}
            for p in described.get("Parameters") or []
        ],
        Capabilities=CAPABILITIES,
        Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    )
    runtime.stacks.forget(foreign.account_id, name)
    _wait_updated(client, name)


def _wait_updated(client: Any, name: str) -> None:
    deadline = time.monotonic() + RETAG_TIMEOUT
    while True:
        status = str(client.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
        if not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise DeployError(f"re-tagging {name} timed out in {status}")
        time.sleep(RETAG_POLL)
    if status != "UPDATE_COMPLETE":
        raise DeployError(
            f"could not re-tag {name}: it ended in {status}",
            hint="see the stack's events; run the same command again once it is fixed",
        )
