"""NodeActions: the journal kept around each node; a skipped node costs no write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.deploy.nodes import NodeActions
from meshlink.graph.executor import Outcome
from meshlink.graph.journal import Journal
from meshlink.graph.planner import Node
from meshlink.stacks.outputs import EdgeOutputs
from meshlink.verify.context import VerifyContext, VerifyOptions
from tests.unit.deploy.fakes import NETWORK, Mesh, template

EDGE = Node("edge", "user-service", "users", ("network:users",))
ACCEPT = Node("accept", "user-service", "users", ("edge:user-service",))
QUIET = lambda message: None  # noqa: E731


def test_a_skipped_node_is_written_with_the_runs_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[dict[str, str]] = []
    original = Journal._write

    def counted(journal: Journal, text: str) -> None:
        writes.append({nid: r.status for nid, r in journal.records.items()})
        original(journal, text)

    monkeypatch.setattr(Journal, "_write", counted)
    mesh = Mesh(tmp_path)
    name = mesh.stack("edge", "user-service")
    mesh.templates[name] = template(
        {"Svc": "AWS::EC2::VPCEndpointService"},
        {"VpcId": {"node": "network:users", "output": "vpc_id"}},
    )
    mesh.deployer.outputs_after_deploy[name] = {EdgeOutputs.SERVICE_ID: "vpce-svc-1"}
    mesh.record("network:users", **NETWORK)
    writes.clear()

    first = NodeActions(mesh.runtime, context=lambda runtime: mesh.ctx)
    assert first.up(EDGE, QUIET).status == "done"
    # A node that deploys: "running" on disk first, then its fingerprint, then "done".
    assert [w["edge:user-service"] for w in writes] == ["running", "running", "done"]
    first.flush()
    assert len(writes) == 3

    mesh.next_run()
    writes.clear()
    again = NodeActions(mesh.runtime, context=lambda runtime: mesh.ctx)
    record = mesh.runtime.journal.get("edge:user-service")
    finished = record.finished_at
    assert again.up(EDGE, QUIET).status == "unchanged"
    assert writes == []  # skipped: nothing on disk changes meanwhile
    assert record.finished_at is not None and finished is not None
    assert record.finished_at >= finished
    again.flush()
    assert writes == [{"network:users": "done", "edge:user-service": "done"}]
    on_disk = Journal(mesh.runtime.state_dir).get("edge:user-service")
    assert on_disk.finished_at == record.finished_at
    again.flush()
    assert len(writes) == 1  # nothing staged since


class Fixed:
    """A handler whose up ends as told, and remembers the connections it was handed."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.handed: list[object] = []

    def up(self, ctx: Any, node: Node, progress: Any) -> Outcome:
        self.handed.append(ctx.seen_connections(node, node.subject))
        return Outcome(self.status, "", {"ServiceId": "vpce-svc-1"})


@pytest.mark.parametrize(("upstream", "reused"), [("unchanged", True), ("done", False)])
def test_reads_from_before_the_run_serve_a_node_only_while_nothing_upstream_changed(
    tmp_path: Path, upstream: str, reused: bool
) -> None:
    mesh = Mesh(tmp_path)
    mesh.record("edge:user-service", ServiceId="vpce-svc-1")
    seen = VerifyContext(mesh.runtime, VerifyOptions(only="control"))
    before = {"vpce-1": {"VpcEndpointId": "vpce-1", "VpcEndpointState": "available"}}
    seen.memo(("connections", "user-service"), lambda: before)
    handlers = {"edge": Fixed(upstream), "accept": Fixed("unchanged")}
    actions = NodeActions(
        mesh.runtime, handlers=handlers, context=lambda runtime: mesh.ctx, seen=seen
    )
    actions.up(Node("edge", "user-service", "users"), QUIET)
    actions.up(ACCEPT, QUIET)
    assert handlers["accept"].handed == [before if reused else None]
