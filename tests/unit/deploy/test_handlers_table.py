"""The kind -> handler table, the journal kept around handlers, status and connect()."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.deploy.handlers import HANDLERS
from meshlink.deploy.nodes import NodeActions
from meshlink.deploy.runtime import MeshRuntime, RunOptions
from meshlink.deploy.status import mesh_status
from meshlink.errors import DeployError, EnvironmentProblem
from meshlink.graph.planner import KIND_ORDER, Node
from tests.unit.deploy.fakes import NETWORK, Mesh, topology


def test_every_node_kind_has_exactly_one_handler() -> None:
    assert sorted(HANDLERS) == sorted(KIND_ORDER)


def test_actions_keep_the_journal_around_each_handler(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    actions = NodeActions(mesh.runtime, context=lambda runtime: mesh.ctx)
    network = Node("network", "users", "users")
    actions.up(network, lambda m: None)
    record = mesh.runtime.journal.get("network:users")
    assert (record.status, record.outputs, record.account_id) == ("done", NETWORK, "111111111111")

    edge = Node("edge", "user-service", "users")
    failing = {"Resources": {}, "Metadata": {"meshlink": {"parameters": {"X": {}}}}}
    mesh.templates[mesh.stack("edge", "user-service")] = failing
    with pytest.raises(DeployError):
        actions.up(edge, lambda m: None)
    record = mesh.runtime.journal.get("edge:user-service")
    assert record.status == "failed"
    assert record.error == "parameter X has no source in the template's Metadata"
    assert record.stack_name == "meshlink-unit-edge-user-service"

    actions.down(network, lambda m: None)
    assert "network:users" not in mesh.runtime.journal.records
    assert mesh.engine.calls == [("apply", "users"), ("destroy", "users")]


def test_status_reports_each_nodes_drift(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path, stack_backed=True)
    mesh.record("network:users", **NETWORK)
    mesh.record("platform:users")
    mesh.live_stacks("users", {mesh.stack("network", "users"): "CREATE_COMPLETE"})
    mesh.live_stacks("notify", {mesh.stack("edge", "notification-service"): "CREATE_FAILED"})
    status = mesh_status(mesh.runtime, mesh.ctx)
    by_node = {n.node: n for n in status.nodes}
    assert by_node["network:users"].stack_status == "CREATE_COMPLETE"
    assert by_node["network:users"].drift == []
    assert by_node["platform:users"].drift == [
        "stack meshlink-unit-platform-users is absent but the journal says done"
    ]
    assert by_node["edge:notification-service"].drift == [
        "stack meshlink-unit-edge-notification-service is CREATE_FAILED"
    ]
    assert (by_node["accept:user-service"].stack, by_node["accept:user-service"].drift) == (
        None,
        [],
    )
    assert {e.state for e in status.edges} == {"absent"}


def test_reading_sessions_never_starts_the_local_cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlink.localcloud import daemon

    started: list[str] = []

    class Cloud:
        endpoint_url = "http://127.0.0.1:4999"

    def ensure_running(*args: Any, **kwargs: Any) -> Cloud:
        started.append("started")
        return Cloud()

    def require_running(*args: Any, **kwargs: Any) -> Cloud:
        raise EnvironmentProblem("the local cloud is not running")

    monkeypatch.setattr(daemon, "ensure_running", ensure_running)
    monkeypatch.setattr(daemon, "require_running", require_running)
    # No cloud answers STS here: the identity check is tests/functional/test_identity.py's.
    monkeypatch.setattr("meshlink.aws.identity.check_identities", lambda *args: [])
    runtime = MeshRuntime(topology(), RunOptions(workdir=tmp_path))
    with pytest.raises(EnvironmentProblem):
        runtime.sessions  # noqa: B018
    assert started == []
    sessions = runtime.connect()
    assert started == ["started"] and runtime.endpoint_url == "http://127.0.0.1:4999"
    assert runtime.sessions is sessions and runtime.connect() is sessions
    assert started == ["started"]
