"""status: each node's verdict, the summary line, `ok` (its exit code) and its tables."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from meshlink.cli.context import CliContext
from meshlink.cli.render_deploy import render_edges, render_status
from meshlink.deploy.status import EdgeStatus, MeshStatus, NodeStatus, mesh_status, teardown
from tests.text_width import folded_in, widest
from tests.unit.deploy.fakes import NETWORK, Mesh

ENDPOINT = "vpce-0a1b2c3d4e5f60718"
DNS = f"{ENDPOINT}-4kq8zq3v.vpce-svc-0f1e2d3c4b5a69788.us-east-1.vpce.amazonaws.com"


@pytest.mark.parametrize(
    ("stack_status", "journal", "drift", "verdict"),
    [
        ("CREATE_COMPLETE", "done", [], "healthy"),
        ("APPLIED", "done", [], "healthy"),
        (None, "done", [], "healthy"),  # accept: no live state of its own
        (None, "done", ["stack s is absent but the journal says done"], "absent"),
        ("DELETE_FAILED", "done", ["stack s is DELETE_FAILED"], "failed"),
        ("ROLLBACK_COMPLETE", "pending", ["stack s is ROLLBACK_COMPLETE"], "failed"),
        (None, "failed", [], "failed"),
        (
            "CREATE_COMPLETE",
            "pending",
            ["stack s is deployed but the journal says pending"],
            "drifted",
        ),
        ("APPLIED", "done", ["subnet-1 route table changed"], "drifted"),
        (None, "pending", [], "not deployed"),
    ],
)
def test_verdict(stack_status: str | None, journal: str, drift: list[str], verdict: str) -> None:
    assert NodeStatus("n:x", "a", "s", stack_status, journal, drift).verdict == verdict


def test_status_is_ok_only_when_every_recorded_node_is_healthy(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path, stack_backed=True)
    mesh.record("network:users", **NETWORK)
    mesh.record("platform:users")
    mesh.record("edge:notification-service")
    mesh.live_stacks("users", {mesh.stack("network", "users"): "CREATE_COMPLETE"})
    mesh.live_stacks("notify", {mesh.stack("edge", "notification-service"): "DELETE_FAILED"})
    status = mesh_status(mesh.runtime, mesh.ctx)
    assert not status.ok
    assert status.summary() == (
        "status: 1 healthy, 1 absent (journal says done), 1 failed, 9 not deployed"
    )
    payload = status.to_dict()
    assert payload["ok"] is False and payload["summary"] == status.summary()
    assert payload["counts"] == {
        "healthy": 1,
        "absent": 1,
        "failed": 1,
        "drifted": 0,
        "not deployed": 9,
    }
    verdicts = {n["node"]: n["verdict"] for n in payload["nodes"]}
    assert verdicts["platform:users"] == "absent"

    mesh.runtime.journal.forget("platform:users")
    mesh.runtime.journal.forget("edge:notification-service")
    mesh.live_stacks("notify", {})
    mesh.next_run()  # the next `status`: stacks read afresh
    healthy = mesh_status(mesh.runtime, mesh.ctx)
    assert healthy.ok
    assert (
        healthy.summary()
        == "status: 1 healthy, 0 absent (journal says done), 0 failed, 11 not deployed"
    )


def test_an_expected_endpoint_that_is_not_available_fails_status() -> None:
    node = NodeStatus("endpoints:a", "x", "s", "CREATE_COMPLETE", "done")
    edge = EdgeStatus("a", "b", ENDPOINT, DNS, "rejected")
    status = MeshStatus([node], [edge])
    assert not status.ok
    assert status.summary().endswith("0 of 1 endpoint available")
    assert MeshStatus([node], [EdgeStatus("a", "b", ENDPOINT, DNS, "available")]).ok


def test_teardown_lists_what_exists_and_what_does_not(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path, stack_backed=True)
    mesh.record("network:users", **NETWORK)
    mesh.record("accept:user-service")
    mesh.live_stacks("users", {mesh.stack("network", "users"): "CREATE_COMPLETE"})
    mesh.live_stacks("notify", {})
    found = teardown(mesh.runtime, mesh.ctx)
    assert {n.node for n in found.present} == {"network:users", "accept:user-service"}
    assert "network:notify" in found.absent and not found.empty


def rendered(width: int, draw: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, highlight=False, soft_wrap=True, color_system=None)
    cli = CliContext(console=console, err_console=console)
    assert callable(draw)
    draw(cli)
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 100, 120])
def test_status_and_endpoint_tables_fit_and_keep_every_id(width: int) -> None:
    stack = "meshlink-a-much-longer-mesh-name-endpoints-notification-service"
    nodes = [
        NodeStatus("endpoints:notification-service", "notify", stack, "CREATE_COMPLETE", "done")
    ]
    edges = [
        EdgeStatus("notification-service", "user-service", ENDPOINT, DNS, "available"),
        EdgeStatus("user-service", "notification-service", None, None, "absent"),
    ]
    text = rendered(width, lambda cli: render_status(cli, MeshStatus(nodes, edges)))
    assert widest(text) <= width, text
    for value in (stack, ENDPOINT, DNS):
        assert folded_in(text, value), (value, text)
    summary = "status: 1 healthy, 0 absent (journal says done), 0 failed, 1 of 1 endpoint available"
    assert " ".join(text.split()).endswith(summary)  # wrapped at words on narrow screens

    text = rendered(width, lambda cli: render_edges(cli, edges))
    assert widest(text) <= width, text
    assert folded_in(text, DNS) and folded_in(text, ENDPOINT), text


def test_edge_states_ask_each_account_once_and_not_for_what_up_read(tmp_path: Path) -> None:
    from meshlink.deploy.status import edge_states
    from meshlink.stacks.outputs import EndpointsOutputs
    from tests.unit.verify.fakes import Stub

    mesh = Mesh(tmp_path)
    mesh.record(
        "endpoints:user-service",
        **{EndpointsOutputs.endpoint_id("notification-service"): "vpce-un"},
    )
    mesh.record(
        "endpoints:notification-service",
        **{EndpointsOutputs.endpoint_id("user-service"): "vpce-nu"},
    )

    def described(VpcEndpointIds: list[str]) -> dict[str, object]:
        return {
            "VpcEndpoints": [{"VpcEndpointId": e, "State": "available"} for e in VpcEndpointIds]
        }

    users, notify = Stub(describe_vpc_endpoints=described), Stub(describe_vpc_endpoints=described)
    mesh.client("users", "ec2", users)
    mesh.client("notify", "ec2", notify)
    mesh.runtime.endpoint_states["vpce-nu"] = "pendingAcceptance"  # as `up` read it
    found = {(e.consumer, e.provider): (e.endpoint_id, e.state) for e in edge_states(mesh.runtime)}
    assert found == {
        ("user-service", "notification-service"): ("vpce-un", "available"),
        ("notification-service", "user-service"): ("vpce-nu", "pendingAcceptance"),
    }
    assert [kw for _, kw in users.calls] == [{"VpcEndpointIds": ["vpce-un"]}]
    assert notify.calls == []
