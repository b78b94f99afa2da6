"""Stacks of the mesh that the topology no longer has: `up` and `down` delete them.

A removed service leaves its stacks in an account that is still in the topology; a
removed account (or a changed account id) leaves stacks only the journal remembers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from meshlink.deploy.runtime import MeshRuntime
from meshlink.graph.executor import Event, EventSink, Outcome
from meshlink.graph.planner import KIND_ORDER, plan_graph

GONE = {"DELETE_COMPLETE"}


@dataclass(frozen=True)
class Orphan:
    account_id: str
    stack: str
    node: str  # the graph node the stack was deployed for, e.g. service:old-service


def accounts_to_search(runtime: MeshRuntime) -> set[str]:
    """The topology's account ids and those the journal remembers (removed accounts)."""
    ids = {account.id for account in runtime.topology.accounts.values()}
    with runtime.journal.lock:
        remembered = {r.account_id for r in runtime.journal.records.values() if r.account_id}
    return ids | remembered


def find_orphans(runtime: MeshRuntime) -> list[Orphan]:
    """Stacks tagged for this mesh, in its accounts past and present, that no node deploys."""
    topology = runtime.topology
    expected = {
        (runtime.account_id(n.account), n.stack_name(topology.name)) for n in plan_graph(topology)
    }
    orphans: list[Orphan] = []
    for account_id in sorted(accounts_to_search(runtime)):
        for name, stack in runtime.stacks.stacks(account_id).items():
            kind = stack.node.partition(":")[0]
            gone = stack.status in GONE
            if (account_id, name) not in expected and not gone and kind in KIND_ORDER:
                orphans.append(Orphan(account_id, name, stack.node))
    # Dependants first: service, then endpoints, then edge, ...
    rank: dict[str, int] = {kind: index for index, kind in enumerate(KIND_ORDER)}
    orphans.sort(key=lambda o: -rank[o.node.split(":")[0]])
    return orphans


def delete_orphans(runtime: MeshRuntime, on_event: EventSink | None = None) -> dict[str, Outcome]:
    """Delete every orphan stack, dependants first; one outcome per stack's node."""
    from meshlink.engines.cdk.deployer import Deployer

    sink = on_event or (lambda event: None)
    outcomes: dict[str, Outcome] = {}
    for orphan in find_orphans(runtime):
        label = orphan.node if orphan.node not in outcomes else orphan.stack
        started = time.monotonic()
        sink(Event(label, "started"))
        deployer = Deployer(runtime.sessions.client(orphan.account_id, "cloudformation"))
        runtime.stacks.forget(orphan.account_id, orphan.stack)
        try:
            deployer.delete(orphan.stack)
            outcome = Outcome("done", "deleted: no longer in the topology")
            record = runtime.journal.get(orphan.node)
            if record.stack_name in (None, orphan.stack):
                runtime.journal.forget(orphan.node)
        except Exception as error:  # one stuck stack must not hide the others
            message = getattr(error, "message", None) or str(error)
            outcome = Outcome("failed", f"could not delete {orphan.stack}: {message}")
        outcome.seconds = time.monotonic() - started
        outcomes[label] = outcome
        sink(Event(label, "finished", outcome.detail or "", outcome))
    return outcomes
