"""Rebuild a lost journal from what is deployed (stacks and Terraform state are the truth)."""

from __future__ import annotations

import time

from meshlink.deploy.handlers import NodeContext, handler_for
from meshlink.deploy.runtime import MeshRuntime
from meshlink.errors import MeshlinkError
from meshlink.graph.planner import plan_graph


def rebuild_journal(runtime: MeshRuntime, ctx: NodeContext | None = None) -> int:
    """Record every healthy deployed node with its outputs; how many were found.

    Fingerprints stay unknown, so the next `up` runs a change set per node, which
    CloudFormation answers with "no changes" where nothing differs. Stacks of another
    mesh with the same name (another identity) are refused unless --adopt.
    """
    from meshlink.deploy.ownership import ensure_owned

    ensure_owned(runtime)
    ctx = ctx or NodeContext(runtime)
    topology = runtime.topology
    found = 0
    for node in plan_graph(topology):
        try:
            outputs = handler_for(node).live_outputs(ctx, node)
        except (MeshlinkError, KeyError):
            continue  # not deployed: nothing to record
        if outputs is None:
            continue
        runtime.journal.update(
            node.id,
            status="done",
            outputs=dict(outputs),
            account_id=runtime.account_id(node.account),
            stack_name=node.stack_name(topology.name),
            finished_at=time.time(),
        )
        found += 1
    if found:
        runtime.notice(f"journal rebuilt from {found} deployed nodes")
    return found
