"""The network handler: whichever engine, fingerprinted applies, plans, drift, down."""

from __future__ import annotations

from pathlib import Path

from meshlink.deploy.handlers import HANDLERS
from meshlink.engines.cdk.events import PropertyChange, ResourceChange, StackPlan
from meshlink.engines.network_contract import output_name
from meshlink.engines.terraform.events import ChangeSummary
from meshlink.graph.planner import Node
from tests.unit.deploy.fakes import NETWORK, Mesh

NODE = Node("network", "users", "users")
HANDLER = HANDLERS["network"]


def test_up_applies_once_then_skips_while_nothing_changed(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    first = HANDLER.up(mesh.ctx, NODE, lambda message: None)
    assert (first.status, first.detail, first.outputs) == ("done", "network via fake", NETWORK)
    record = mesh.runtime.journal.get("network:users")
    assert record.parameters == {"engine": "fake"} and record.fingerprint
    mesh.runtime.journal.update("network:users", status="done", outputs=first.outputs)

    again = HANDLER.up(mesh.ctx, NODE, lambda message: None)
    assert (again.status, again.detail) == ("unchanged", "fingerprint matches")
    assert mesh.engine.calls == [("apply", "users")]


def test_changed_engine_code_or_lost_network_applies_again(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    seen: list[str] = []
    outcome = HANDLER.up(mesh.ctx, NODE, seen.append)
    mesh.runtime.journal.update("network:users", status="done", outputs=outcome.outputs)
    mesh.engine.code = "code-v2"
    assert HANDLER.up(mesh.ctx, NODE, seen.append).status == "done"
    mesh.runtime.journal.update("network:users", status="done", outputs=outcome.outputs)
    mesh.engine.deployed.clear()  # destroyed behind meshlink's back
    assert HANDLER.up(mesh.ctx, NODE, seen.append).status == "done"
    assert seen == ["applying with fake"] * 3


def test_a_stack_backed_network_counts_only_while_its_stack_is_healthy(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path, stack_backed=True)
    mesh.engine.apply("users")
    outputs = {
        output_name(key): ",".join(value) if isinstance(value, list) else value
        for key, value in NETWORK.items()
    }
    mesh.deployer.put(mesh.stack("network", "users"), "UPDATE_ROLLBACK_FAILED", **outputs)
    assert HANDLER.live_outputs(mesh.ctx, NODE) is None
    mesh.deployer.put(mesh.stack("network", "users"), "UPDATE_COMPLETE", **outputs)
    # Its outputs are the stack's (read with the account's other stacks), not the engine's.
    mesh.engine.deployed.clear()
    assert HANDLER.live_outputs(mesh.ctx, NODE) == NETWORK
    mesh.deployer.put(mesh.stack("network", "users"), "UPDATE_COMPLETE", VpcId="vpc-1")
    assert HANDLER.live_outputs(mesh.ctx, NODE) is None  # not a network stack's outputs


def test_plan_reads_either_engines_answer(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    mesh.engine.planned = ChangeSummary("users", "plan", add=12)
    plan = HANDLER.plan(mesh.ctx, NODE)
    assert (plan.action, plan.detail) == ("create", "terraform: +12 ~0 -0")
    mesh.engine.planned = ChangeSummary("users", "plan")
    plan = HANDLER.plan(mesh.ctx, NODE)
    # Nothing recorded yet: up applies (and says done) even with no resource change.
    assert (plan.action, plan.detail) == (
        "update",
        "re-apply: no resource changes (network code or settings changed)",
    )
    outcome = HANDLER.up(mesh.ctx, NODE, lambda message: None)
    mesh.runtime.journal.update("network:users", status="done", outputs=outcome.outputs)
    plan = HANDLER.plan(mesh.ctx, NODE)
    assert (plan.action, plan.detail, plan.outputs) == ("unchanged", "fingerprint matches", NETWORK)

    mesh.engine.code = "code-v2"
    detail = PropertyChange("CidrBlock", requires_recreation="Always", before="a", after="b")
    change = ResourceChange("Modify", "Vpc", "AWS::EC2::VPC", "True", details=(detail,))
    mesh.engine.planned = StackPlan("meshlink-unit-network-users", "UPDATE", (change,))
    plan = HANDLER.plan(mesh.ctx, NODE)
    assert (plan.action, plan.detail) == ("replace", "replaces Vpc (CidrBlock requires recreation)")
    assert [(c.action, c.logical_id, c.replacement, c.replaced_by) for c in plan.changes] == [
        ("Modify", "Vpc", "True", ["CidrBlock"])
    ]
    assert plan.outputs is None  # a new VPC: downstream parameters are not known yet


def test_drift_of_a_terraform_network_is_its_state(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    mesh.record("network:users", **NETWORK)
    drift = HANDLER.drift(mesh.ctx, NODE)
    assert (drift.stack, drift.live, drift.journal) == (None, None, "done")
    assert drift.differences == ("network state is absent but the journal says done",)
    mesh.engine.apply("users")
    drift = HANDLER.drift(mesh.ctx, NODE)
    assert (drift.live, drift.drifted) == ("APPLIED", False)


def test_drift_of_a_stack_backed_network_is_its_stack(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path, stack_backed=True)
    name = mesh.stack("network", "users")
    cfn = mesh.live_stacks("users", {name: "UPDATE_ROLLBACK_FAILED"})
    drift = HANDLER.drift(mesh.ctx, NODE)
    assert (drift.stack, drift.live, drift.journal) == (name, "UPDATE_ROLLBACK_FAILED", "pending")
    assert drift.differences == (f"stack {name} is UPDATE_ROLLBACK_FAILED",)
    HANDLER.drift(mesh.ctx, NODE)
    assert len(cfn.calls) == 1  # the account's stacks are read once per run


def test_down_destroys_with_the_engine(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    mesh.engine.apply("users")
    seen: list[str] = []
    outcome = HANDLER.down(mesh.ctx, NODE, seen.append)
    assert (outcome.status, outcome.detail) == ("done", "network destroyed")
    assert seen == ["destroying with fake"] and mesh.engine.deployed == {}
    again = HANDLER.down(mesh.ctx, NODE, seen.append)
    assert (again.status, again.detail) == ("unchanged", "not deployed: nothing to delete")


def test_the_network_is_a_stack_unless_a_stackless_engine_deployed_it() -> None:
    assert HANDLER.deployed_stack(NODE, "unit", None) == "meshlink-unit-network-users"
    assert HANDLER.deployed_stack(NODE, "unit", "cdk") == "meshlink-unit-network-users"
    assert HANDLER.deployed_stack(NODE, "unit", "terraform") is None
