"""`up` and `down` over the deployment graph, under the mesh lock."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from meshlink.deploy.drift.detect import detect
from meshlink.deploy.drift.model import DriftReport
from meshlink.deploy.nodes import NodeActions
from meshlink.deploy.orphans import delete_orphans
from meshlink.deploy.ownership import adopt_stacks, ensure_owned
from meshlink.deploy.rebuild import rebuild_journal
from meshlink.deploy.runtime import MeshRuntime
from meshlink.graph.executor import Event, EventSink, Outcome, execute
from meshlink.graph.lock import mesh_lock
from meshlink.graph.planner import DeploymentGraph, plan_graph
from meshlink.topology.identity import identity_note
from meshlink.verify.context import VerifyContext, VerifyOptions

SERVICE_KINDS = {"platform", "edge", "endpoints", "accept", "service", "dashboard"}
ONLY_KINDS = {"network": {"network"}, "services": SERVICE_KINDS}


@dataclass
class RunReport:
    """How every node of a run ended."""

    action: str
    outcomes: dict[str, Outcome]
    seconds: float
    order: list[str] = field(default_factory=list)
    # Drift `up` repaired, by node (what drifted), then verified (deploy/drift).
    repaired: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(outcome.ok for outcome in self.outcomes.values())

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes.values():
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    def failures(self) -> dict[str, Outcome]:
        return {n: o for n, o in self.outcomes.items() if o.status == "failed"}


def selected_graph(runtime: MeshRuntime) -> DeploymentGraph:
    graph = plan_graph(runtime.topology)
    if runtime.options.only:
        graph = graph.select(ONLY_KINDS[runtime.options.only])
    return graph


def up(
    runtime: MeshRuntime, on_event: EventSink | None = None, *, repair: bool = True
) -> RunReport:
    """Deploy (or update, or resume) the mesh; unchanged nodes are skipped; drifted nodes
    are repaired, then verified (`repair=False`: drift is left alone)."""
    started = time.monotonic()
    runtime.connect()
    with mesh_lock(runtime.state_dir, "meshlink up"):
        note = identity_note(runtime.topology)
        if note:
            runtime.notice(note)
        graph = selected_graph(runtime)
        reads = VerifyContext(runtime, VerifyOptions(only="control")) if repair else None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="drift") as early:
            # Drift detection only reads (and what it reads no ownership check or zone
            # look-up changes): with a journal to go by, it runs alongside them.
            found = (
                early.submit(detect, runtime, graph.nodes, reads)
                if reads is not None and runtime.journal.existed
                else None
            )
            adopt_stacks(runtime, ensure_owned(runtime))
            if not runtime.journal.existed:
                rebuild_journal(runtime)
            if any(node.kind == "network" for node in graph.nodes.values()):
                runtime.zone_ids()  # an account lacking the mesh's zones: exit 2, nothing touched
                runtime.network_engine.prepare_all()  # e.g. synthesis, as for the mesh's stacks
            if found is not None:
                drift = found.result()
            else:
                drift = detect(runtime, graph.nodes, reads) if reads else DriftReport()
        actions = NodeActions(runtime, repairs=drift.by_node(), seen=reads)
        try:
            outcomes = execute(
                graph, actions.up, concurrency=runtime.options.concurrency, on_event=on_event
            )
        finally:
            actions.flush()
        runtime.check_local_cloud("up", outcomes)
        if reads is not None:
            runtime.endpoint_states.update(_still_read(reads, outcomes))
        if drift:
            outcomes.update(_confirmed(runtime, drift, outcomes))
        if runtime.options.only != "network" and all(o.ok for o in outcomes.values()):
            outcomes.update(delete_orphans(runtime, on_event))
    report = RunReport("up", outcomes, time.monotonic() - started, graph.topological_order())
    report.repaired = {n: drift.whats(n) for n in drift.nodes() if outcomes.get(n, _NONE).ok}
    return report


_NONE = Outcome("skipped")


def _still_read(reads: VerifyContext, outcomes: dict[str, Outcome]) -> dict[str, str]:
    """Endpoint id -> state, as drift detection read it, where the run left unchanged
    every node that moves it: the consumer's endpoints, the provider's endpoint service and
    its acceptance (the edges table after `up` then asks only about the others)."""
    from meshlink.graph.planner import node_id

    known = set(reads.memo_keys())
    found: dict[str, str] = {}
    for consumer, provider in reads.topology.edges():
        movers = [node_id("endpoints", consumer)]
        movers += [node_id("edge", provider), node_id("accept", provider)]
        unchanged = all(outcomes.get(n, _NONE).status == "unchanged" for n in movers)
        if unchanged and ("endpoint", consumer, provider) in known:
            endpoint = reads.endpoint(consumer, provider)
            if endpoint is not None:
                found[str(endpoint["VpcEndpointId"])] = str(endpoint.get("State"))
    return found


def _confirmed(
    runtime: MeshRuntime, drift: DriftReport, outcomes: dict[str, Outcome]
) -> dict[str, Outcome]:
    """Repaired nodes verified: a node whose checks still fail becomes a failure."""
    from meshlink.deploy.drift.confirm import confirm_repairs

    repaired = [n for n in drift.nodes() if outcomes.get(n, _NONE).ok]
    if not repaired:
        return {}
    changed: dict[str, Outcome] = {}
    for nid, problems in confirm_repairs(runtime, repaired).items():
        outcome = outcomes[nid]
        if problems:
            detail = f"{outcome.detail}; verify after repair: {'; '.join(problems)}"
            changed[nid] = Outcome("failed", detail, outcome.outputs, outcome.seconds)
            runtime.journal.update(nid, fingerprint=None)  # the next up repairs again
        else:
            changed[nid] = Outcome(
                "done", f"{outcome.detail}; verified", outcome.outputs, outcome.seconds
            )
    return changed


def down(runtime: MeshRuntime, on_event: EventSink | None = None) -> RunReport:
    """Delete every node of the mesh, dependants first; idempotent."""
    started = time.monotonic()
    runtime.connect()
    with mesh_lock(runtime.state_dir, "meshlink down"):
        ensure_owned(runtime)  # --adopt: delete another identity's stacks too
        if runtime.options.only == "network":
            _refuse_network_under_live_stacks(runtime)
        graph = selected_graph(runtime)
        actions = NodeActions(runtime)
        outcomes = {}
        if runtime.options.only != "network":
            outcomes.update(delete_orphans(runtime, on_event))
        outcomes.update(
            execute(
                graph,
                actions.down,
                concurrency=runtime.options.concurrency,
                reverse=True,
                on_event=on_event,
            )
        )
        runtime.check_local_cloud("down", outcomes)
        if runtime.options.only is None and all(o.ok for o in outcomes.values()):
            from meshlink.deploy.orphans import accounts_to_search
            from meshlink.deploy.template_bucket import remove_template_buckets

            for said in remove_template_buckets(runtime, accounts_to_search(runtime)):
                runtime.notice(said)
    order = list(reversed(graph.topological_order()))
    return RunReport("down", outcomes, time.monotonic() - started, order)


def _refuse_network_under_live_stacks(runtime: MeshRuntime) -> None:
    from meshlink.errors import UsageError

    live = [
        name
        for account in runtime.topology.accounts.values()
        for name, stack in runtime.stacks.stacks(account.id).items()
        if "-network-" not in name and stack.status != "DELETE_COMPLETE"
    ]
    if live:
        raise UsageError(
            f"cannot delete only the networks: {len(live)} stacks still use them "
            f"({', '.join(sorted(live)[:3])}{', ...' if len(live) > 3 else ''})",
            hint="run `meshlink down --only services` first, or `meshlink down` for everything",
        )


__all__ = ["Event", "RunReport", "down", "up"]
