"""Rebuild a lost journal from what is deployed (stacks and Terraform state are the truth)."""

from __future__ import annotations

import time

from meshlink.deploy.nodes import HEALTHY
from meshlink.deploy.runtime import MeshRuntime
from meshlink.errors import MeshlinkError
from meshlink.graph.planner import plan_graph
from meshlink.topology.naming import stack_name


def rebuild_journal(runtime: MeshRuntime) -> int:
    """Record every healthy deployed node with its outputs; how many were found.

    Fingerprints stay unknown, so the next `up` runs a change set per node, which
    CloudFormation answers with "no changes" where nothing differs.
    """
    from meshlink.engines.cdk.deployer import Deployer

    topology = runtime.topology
    found = 0
    for node in plan_graph(topology):
        if node.kind == "accept":
            continue
        try:
            if node.kind == "network":
                outputs = dict(runtime.network_engine.outputs(node.account))
            else:
                name = stack_name(topology.name, node.kind, node.subject)
                deployer = Deployer(runtime.client(node.account, "cloudformation"))
                if deployer.status(name) not in HEALTHY:
                    continue
                outputs = deployer.outputs(name)
        except (MeshlinkError, KeyError):
            continue  # not deployed: nothing to record
        runtime.journal.update(
            node.id,
            status="done",
            outputs=outputs,
            account_id=runtime.account_id(node.account),
            stack_name=node.stack_name(topology.name),
            finished_at=time.time(),
        )
        found += 1
    if found:
        runtime.notice(f"journal rebuilt from {found} deployed nodes")
    return found
