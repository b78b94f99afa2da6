"""plan's estimate of `up` on AWS: the critical path of the changing nodes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from meshlink import durations
from meshlink.deadlines import Deadlines
from meshlink.deploy.estimate import (
    critical_path,
    estimate_up,
    measure,
    resource_graph,
    stack_duration,
    template_seconds,
)
from meshlink.deploy.handlers.model import Change, NodePlan
from meshlink.graph.executor import Outcome
from meshlink.graph.journal import Journal
from meshlink.graph.planner import DeploymentGraph, Node

OVERHEAD = durations.seconds("stack.create_overhead")


def test_critical_path_is_the_longest_weighted_chain() -> None:
    # a(5) -> b(1) -> d(1) and a(5) -> c(10) -> d(1); e(3) on its own
    depends = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": []}
    seconds = {"a": 5.0, "b": 1.0, "c": 10.0, "d": 1.0, "e": 3.0}
    assert critical_path(depends, seconds) == (16.0, ["a", "c", "d"])


def test_nodes_that_take_no_time_order_the_others_but_are_not_on_the_path() -> None:
    # the unchanged x sits between a and d: d still waits for a through it
    depends = {"a": [], "x": ["a"], "d": ["x"], "e": []}
    seconds = {"a": 4.0, "d": 2.0, "e": 5.0}
    assert critical_path(depends, seconds) == (6.0, ["a", "d"])


def test_nothing_changing_takes_no_time() -> None:
    assert critical_path({"a": [], "b": ["a"]}, {}) == (0.0, [])


def test_a_cycle_is_an_error() -> None:
    with pytest.raises(ValueError, match="cycle"):
        critical_path({"a": ["b"], "b": ["a"]}, {"a": 1.0})


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        "Nat": {
            "Type": "AWS::EC2::NatGateway",
            "Properties": {"SubnetId": {"Ref": "Subnet"}},
        },
        "Route": {
            "Type": "AWS::EC2::Route",
            "Properties": {"NatGatewayId": {"Fn::GetAtt": ["Nat", "Id"]}},
            "DependsOn": "Subnet",
        },
        "Nlb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Subnets": [{"Fn::Sub": "${Subnet}"}]},
        },
    }
}


def test_a_templates_resources_follow_cloudformations_dependency_order() -> None:
    assert resource_graph(TEMPLATE) == {
        "Vpc": [],
        "Subnet": ["Vpc"],
        "Nat": ["Subnet"],
        "Route": ["Nat", "Subnet"],
        "Nlb": ["Subnet"],
    }
    everything = {lid: ["create"] for lid in TEMPLATE["Resources"]}
    # VPC 3 + subnet 2 + NLB 150 beats VPC 3 + subnet 2 + NAT 100 + route 1
    assert template_seconds(TEMPLATE, everything) == 3 + 2 + 150 + OVERHEAD  # type: ignore[arg-type]


def test_an_update_counts_only_the_changed_resources_a_replacement_twice() -> None:
    assert template_seconds(TEMPLATE, {"Route": ["update"]}) == 2 + OVERHEAD
    replaced = template_seconds(TEMPLATE, {"Nat": ["create", "delete"]})
    assert replaced == 100 + 60 + OVERHEAD


def test_a_stack_s_wait_expects_its_changes_duration_at_the_run_s_scale() -> None:
    from meshlink.engines.cdk.events import ResourceChange

    expect = stack_duration(TEMPLATE, 0.02)
    created = [ResourceChange("Add", lid, "") for lid in TEMPLATE["Resources"]]
    assert expect(created) == pytest.approx((3 + 2 + 150 + OVERHEAD) * 0.02)
    nat = ResourceChange("Modify", "Nat", "AWS::EC2::NatGateway", replacement="True")
    assert expect([nat]) == pytest.approx((100 + 60 + OVERHEAD) * 0.02)
    assert stack_duration(TEMPLATE, 0.0)(created) == 0.0  # instant timing: poll at once


def graph() -> DeploymentGraph:
    g = DeploymentGraph()
    g.add(Node("network", "a", "a"))
    g.add(Node("edge", "s", "a", ("network:a",)))
    g.add(Node("accept", "s", "a", ("edge:s",)))
    g.add(Node("service", "s", "a", ("network:a", "edge:s", "accept:s")))
    return g


def runtime(tmp_path: Path, scale: float = 1.0) -> Any:
    return SimpleNamespace(journal=Journal(tmp_path), deadlines=Deadlines(scale, local=True))


SERVICE: dict[str, Any] = {
    "Resources": {
        "Svc": {"Type": "AWS::ECS::Service", "Properties": {"LoadBalancers": [{}]}},
    }
}


def templates(node: Node) -> dict[str, Any] | None:
    return {"network": None, "edge": TEMPLATE, "service": SERVICE}.get(node.kind)


def test_estimate_of_a_new_mesh_walks_network_edge_accept_service(tmp_path: Path) -> None:
    plans = [NodePlan(n.id, "create") for n in graph()]
    plans[2] = NodePlan("accept:s", "reconcile")
    estimate = estimate_up(runtime(tmp_path), graph(), plans, template=templates)
    network = 3 + 2 + 100 + 1  # Terraform's network: the table's chain
    edge = 3 + 2 + 150 + OVERHEAD
    accept = 10
    service = 3 + 40 + 90 + OVERHEAD  # ECS service: task RUNNING, target healthy
    assert estimate.seconds == network + edge + accept + service
    assert estimate.critical_path == ["network:a", "edge:s", "accept:s", "service:s"]
    assert estimate.basis == "durations table"
    assert estimate.line().startswith("up takes about 6 min 54 s on AWS (network:a -> edge:s")


def test_unchanged_nodes_take_no_time(tmp_path: Path) -> None:
    plans = [NodePlan(n.id, "unchanged") for n in graph()]
    plans[1] = NodePlan(
        "edge:s", "update", changes=[Change("Modify", "Route", "AWS::EC2::Route", "False")]
    )
    estimate = estimate_up(runtime(tmp_path), graph(), plans, template=templates)
    assert (estimate.seconds, estimate.critical_path) == (2 + OVERHEAD, ["edge:s"])


def test_the_journals_measure_of_the_same_kind_of_change_refines_the_table(
    tmp_path: Path,
) -> None:
    run = runtime(tmp_path, scale=0.02)
    started = __import__("time").time() - 4.0  # a 4 s edge create under x0.02: 200 s
    record = measure(run, "pending", started, Outcome("done"))
    assert record is not None and record["kind"] == "create"
    assert record["aws_seconds"] == pytest.approx(200, abs=5)
    run.journal.update("edge:s", measured=record)
    plans = [NodePlan(n.id, "create") for n in graph()]
    estimate = estimate_up(run, graph(), plans, template=templates)
    assert estimate.nodes["edge:s"] == record["aws_seconds"]
    assert estimate.measured == ["edge:s"]
    assert estimate.basis == "durations table, 1 node(s) as this mesh's journal timed them"
    # an update is not timed by a create's measure
    update = [NodePlan("edge:s", "update", changes=[Change("Add", "Vpc", "AWS::EC2::VPC")])]
    assert estimate_up(run, graph(), update, template=templates).measured == []


def test_nothing_is_measured_under_instant_timing_or_when_nothing_changed(tmp_path: Path) -> None:
    assert measure(runtime(tmp_path, scale=0.0), "done", 0.0, Outcome("done")) is None
    assert measure(runtime(tmp_path), "done", 0.0, Outcome("unchanged")) is None


def test_the_network_engine_names_the_zone_parameter_without_loading_cdk() -> None:
    """A cached `up` must not start Node: the CDK engine keeps its own copy of the name."""
    import subprocess
    import sys

    from meshlink.engines.cdk import network

    code = "import meshlink.engines.cdk.network, sys; print('aws_cdk' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False", loaded.stderr
    from meshlink.stacks.network import ZONE_IDS_PARAMETER

    assert network.ZONE_IDS_PARAMETER == ZONE_IDS_PARAMETER
