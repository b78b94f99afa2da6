"""What CloudFormation says is deployed for a mesh (the truth the journal follows).

`StackSnapshot` reads each account's stacks once per run: one paginated DescribeStacks
without a StackName per account (it describes every stack of the account, outputs
included: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html),
shared by the ownership check, every node's skip test and drift check, `status` and the
orphan search, instead of one DescribeStacks per node.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MESH_TAG = "meshlink:mesh"
MESH_ID_TAG = "meshlink:mesh-id"
NODE_TAG = "meshlink:node"
GONE = "DELETE_COMPLETE"


@dataclass(frozen=True)
class LiveStack:
    """One stack of a mesh (by name) as CloudFormation describes it."""

    name: str
    status: str
    node: str
    # The meshlink:mesh-id tag; None on stacks deployed before meshes had identities.
    mesh_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    # DescribeStacks' whole answer for the stack (outputs, parameters, ...).
    description: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def outputs(self) -> dict[str, str]:
        """The stack's outputs by key."""
        found = self.description.get("Outputs") or []
        return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in found}


def _live(stack: Mapping[str, Any]) -> LiveStack:
    tags = {str(t.get("Key")): str(t.get("Value")) for t in stack.get("Tags") or []}
    return LiveStack(
        stack["StackName"],
        stack["StackStatus"],
        tags.get(NODE_TAG, ""),
        tags.get(MESH_ID_TAG),
        tags,
        stack,
    )


def _is_mesh_stack(stack: Mapping[str, Any], mesh: str) -> bool:
    tags = {str(t.get("Key")): str(t.get("Value")) for t in stack.get("Tags") or []}
    return str(stack["StackName"]).startswith(f"meshlink-{mesh}-") and tags.get(MESH_TAG) == mesh


def mesh_live_stacks(cloudformation: Any, mesh: str) -> list[LiveStack]:
    """Every stack of a mesh called `mesh` this client sees, whatever its identity.

    A stack belongs to the mesh by its meshlink:mesh tag, not by its name alone: mesh
    "shop" must never take the stacks of mesh "shop-edge" (meshlink-shop-edge-...) for
    its own. Which mesh of that name (its identity) is for deploy/ownership.py to judge.
    """
    found: list[LiveStack] = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            if _is_mesh_stack(stack, mesh):
                found.append(_live(stack))
    return found


def mesh_stacks(cloudformation: Any, mesh: str) -> dict[str, str]:
    """Status of every stack of `mesh` this client sees, by stack name."""
    return {s.name: s.status for s in mesh_live_stacks(cloudformation, mesh)}


def _is_missing(error: BaseException) -> bool:
    from meshlink.aws.errors import error_code, error_message

    return error_code(error) == "ValidationError" and "does not exist" in error_message(error)


class StackSnapshot:
    """This mesh's stacks per account id, each account read once (thread-safe).

    A stack the run changes (deployed, deleted, re-tagged) is `forget`-ten: from then
    on it is described by name whenever asked, so no reader ever sees it as it was
    before the change. `cloudformation(account_id)` gives the account's client.
    """

    def __init__(self, mesh: str, cloudformation: Callable[[str], Any]) -> None:
        self.mesh = mesh
        self._cloudformation = cloudformation
        self._lock = threading.Lock()
        self._read: dict[str, dict[str, LiveStack]] = {}
        self._account_locks: dict[str, threading.Lock] = {}
        self._changed: set[tuple[str, str]] = set()

    def _account(self, account_id: str) -> dict[str, LiveStack]:
        with self._lock:
            if account_id in self._read:
                return self._read[account_id]
            account_lock = self._account_locks.setdefault(account_id, threading.Lock())
        with account_lock:  # one DescribeStacks listing per account, however many ask
            with self._lock:
                if account_id in self._read:
                    return self._read[account_id]
            client = self._cloudformation(account_id)
            found = {s.name: s for s in mesh_live_stacks(client, self.mesh)}
            with self._lock:
                self._read[account_id] = found
            return found

    def stacks(self, account_id: str) -> dict[str, LiveStack]:
        """Every stack of the mesh in the account, deleted ones included, by name."""
        found = dict(self._account(account_id))
        with self._lock:
            changed = [name for account, name in self._changed if account == account_id]
        if len(changed) > 1:
            # One listing of the account, not a DescribeStacks each (after an up of a
            # 32-service mesh, the orphan scan described 104 stacks one by one).
            client = self._cloudformation(account_id)
            fresh = {s.name: s for s in mesh_live_stacks(client, self.mesh)}
        else:
            fresh = {n: s for n in changed if (s := self._describe(account_id, n)) is not None}
        for name in changed:
            if name in fresh:
                found[name] = fresh[name]
            else:
                found.pop(name, None)
        return found

    def stack(self, account_id: str, name: str) -> LiveStack | None:
        """The stack as it is now (None when absent or deleted)."""
        with self._lock:
            changed = (account_id, name) in self._changed
        found = self._describe(account_id, name) if changed else self._account(account_id).get(name)
        return None if found is None or found.status == GONE else found

    def forget(self, account_id: str, name: str) -> None:
        """The run changes (or changed) this stack: describe it afresh from now on."""
        with self._lock:
            self._changed.add((account_id, name))

    def _describe(self, account_id: str, name: str) -> LiveStack | None:
        client = self._cloudformation(account_id)
        try:
            described = client.describe_stacks(StackName=name).get("Stacks") or []
        except Exception as error:  # botocore ClientError: ValidationError "does not exist"
            if _is_missing(error):
                return None
            raise
        return _live(described[0]) if described else None
