"""After `up` repaired nodes: verify's control checks bearing on those nodes, and drift
looked for again there. What still fails is the node's failure.

A repair takes effect over time: a restored security-group rule lets the NLB's health
checks through again, and its targets turn healthy only after a few intervals (about 90 s
on AWS, the durations table). So the checks are asked again, backing off, until they
pass or the run's stability deadline (the one `up` gives a service to turn healthy) ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from meshlink.deadlines import pauses
from meshlink.deploy.handlers import handler_for
from meshlink.graph.planner import plan_graph

if TYPE_CHECKING:
    from meshlink.deploy.runtime import MeshRuntime


def confirm_repairs(
    runtime: MeshRuntime,
    repaired: Collection[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, list[str]]:
    """Per repaired node, what is still wrong (empty lists when the repair held), once it
    held or the stability deadline passed."""
    deadline = clock() + runtime.deadlines.seconds("stability")
    waits = pauses(0.25, runtime.deadlines.poll_max)
    while True:
        problems = _still_wrong(runtime, repaired)
        if not any(problems.values()) or clock() >= deadline:
            return problems
        sleep(next(waits))


def _still_wrong(runtime: MeshRuntime, repaired: Collection[str]) -> dict[str, list[str]]:
    """One look (fresh reads): drift left, and verify's failing control checks."""
    from meshlink.deploy.drift.detect import detect
    from meshlink.verify.context import VerifyContext, VerifyOptions
    from meshlink.verify.model import Verdict
    from meshlink.verify.runner import checks

    nodes = {n.id: n for n in plan_graph(runtime.topology) if n.id in repaired}
    problems: dict[str, list[str]] = {nid: [] for nid in nodes}
    for finding in detect(runtime, nodes).findings:
        problems[finding.node].append(f"still drifted: {finding.what}")
    ctx = VerifyContext(runtime, VerifyOptions(only="control"))
    bearing = {
        nid: set(handler_for(node).affected_edges(runtime.topology, node))
        for nid, node in nodes.items()
    }
    for spec in checks(ctx.options):
        for subject, edges in spec.subjects(ctx):
            owners = [nid for nid, mine in bearing.items() if edges and set(edges) <= mine]
            if not owners:
                continue
            result = spec.run(ctx, Verdict(spec.id, spec.category, subject, edges))
            if result.status == "fail":
                for nid in owners:
                    problems[nid].append(f"{spec.id} {subject.name}: {result.message}")
    return problems
