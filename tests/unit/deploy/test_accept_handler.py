"""The accept handler: exactly the consumers' endpoints accepted, any other rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meshlink.deploy.handlers import HANDLERS
from meshlink.graph.planner import Node
from meshlink.stacks.outputs import EdgeOutputs, EndpointsOutputs
from tests.unit.deploy.fakes import Mesh

NODE = Node("accept", "notification-service", "notify")
HANDLER = HANDLERS["accept"]


class Connections:
    """The provider's side of its endpoint service: connection states by endpoint id."""

    def __init__(self, states: dict[str, str]) -> None:
        self.states = states
        self.calls: list[str] = []

    def describe_vpc_endpoint_connections(self, **_: Any) -> dict[str, Any]:
        return {
            "VpcEndpointConnections": [
                {"VpcEndpointId": e, "VpcEndpointState": s} for e, s in self.states.items()
            ]
        }

    def accept_vpc_endpoint_connections(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(f"accept {','.join(kwargs['VpcEndpointIds'])}")
        self.states.update(dict.fromkeys(kwargs["VpcEndpointIds"], "available"))
        return {"Unsuccessful": []}

    def reject_vpc_endpoint_connections(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(f"reject {','.join(kwargs['VpcEndpointIds'])}")
        self.states.update(dict.fromkeys(kwargs["VpcEndpointIds"], "rejected"))
        return {"Unsuccessful": []}


def accept_mesh(tmp_path: Path, states: dict[str, str]) -> tuple[Mesh, Connections]:
    mesh = Mesh(tmp_path)
    mesh.record("edge:notification-service", **{EdgeOutputs.SERVICE_ID: "vpce-svc-n"})
    endpoint = EndpointsOutputs.endpoint_id("notification-service")
    mesh.record("endpoints:user-service", **{endpoint: "vpce-mine"})
    ec2 = Connections(states)
    mesh.client("notify", "ec2", ec2)
    return mesh, ec2


def test_up_accepts_the_consumer_and_rejects_a_stranger(tmp_path: Path) -> None:
    mesh, ec2 = accept_mesh(
        tmp_path, {"vpce-mine": "pendingAcceptance", "vpce-stranger": "pendingAcceptance"}
    )
    outcome = HANDLER.up(mesh.ctx, NODE, lambda message: None)
    assert ec2.calls == ["reject vpce-stranger", "accept vpce-mine"]
    assert (outcome.status, outcome.detail) == (
        "done",
        "1 expected available, accepted 1, rejected 1 unexpected",
    )
    assert outcome.outputs["Connections"] == "vpce-mine=available"


def test_up_changes_nothing_when_only_the_consumer_is_connected(tmp_path: Path) -> None:
    mesh, ec2 = accept_mesh(tmp_path, {"vpce-mine": "available"})
    outcome = HANDLER.up(mesh.ctx, NODE, lambda message: None)
    assert (outcome.status, outcome.detail) == ("unchanged", "1 expected available")
    assert ec2.calls == []


def test_plan_says_what_up_will_do_to_the_connections(tmp_path: Path) -> None:
    cases = {
        "pendingAcceptance": ("reconcile", "accept user-service"),
        "available": ("unchanged", "1 expected connection(s)"),
    }
    for state, expected in cases.items():
        mesh, _ = accept_mesh(tmp_path / state, {"vpce-mine": state})
        plan = HANDLER.plan(mesh.ctx, NODE)
        assert (plan.action, plan.detail) == expected
    mesh, _ = accept_mesh(tmp_path / "stranger", {"vpce-mine": "available", "vpce-x": "pending"})
    assert HANDLER.plan(mesh.ctx, NODE).detail == "reject 1 unexpected"


def test_plan_down_and_what_status_and_verify_read(tmp_path: Path) -> None:
    mesh, _ = accept_mesh(tmp_path, {})
    plan = HANDLER.plan(mesh.ctx, NODE)
    assert (plan.action, plan.detail) == ("reconcile", "no connection from user-service")
    down = HANDLER.down(mesh.ctx, NODE, lambda message: None)
    assert (down.status, down.detail) == ("unchanged", "not deployed: nothing to delete")
    mesh.runtime.journal.update(NODE.id, status="running", outputs={"ServiceId": "vpce-svc-n"})
    down = HANDLER.down(mesh.ctx, NODE, lambda message: None)
    assert (down.status, down.detail) == ("done", "connections go with the endpoints")
    mesh.runtime.journal.forget(NODE.id)
    assert HANDLER.live_outputs(mesh.ctx, NODE) is None  # never rebuilt: reconciled by up
    drift = HANDLER.drift(mesh.ctx, NODE)
    assert (drift.stack, drift.live, drift.journal, drift.drifted) == (
        None,
        None,
        "pending",
        False,
    )
    assert HANDLER.deployed_stack(NODE, "unit", "cdk") is None
    assert HANDLER.affected_edges(mesh.topology, NODE) == (
        ("user-service", "notification-service"),
    )


class Looks(Connections):
    def __init__(self, states: dict[str, str]) -> None:
        super().__init__(states)
        self.looks = 0

    def describe_vpc_endpoint_connections(self, **kwargs: Any) -> dict[str, Any]:
        self.looks += 1
        return super().describe_vpc_endpoint_connections(**kwargs)


def test_up_accepts_an_endpoint_the_run_created_before_looking(tmp_path: Path) -> None:
    mesh, _ = accept_mesh(tmp_path, {})
    ec2 = Looks({"vpce-mine": "pendingAcceptance"})
    mesh.client("notify", "ec2", ec2)
    mesh.ctx.mark_created(Node("endpoints", "user-service", "users"))
    outcome = HANDLER.up(mesh.ctx, NODE, lambda message: None)
    assert (ec2.calls, ec2.looks) == (["accept vpce-mine"], 1)
    assert (outcome.status, outcome.detail) == ("done", "1 expected available, accepted 1")
    # An endpoints stack the run did not create: look first, as before.
    mesh, ec2 = accept_mesh(tmp_path / "again", {"vpce-mine": "available"})
    assert HANDLER.up(mesh.ctx, NODE, lambda message: None).status == "unchanged"
    assert ec2.calls == []
