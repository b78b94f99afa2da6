"""Stack handlers (platform, edge, endpoints, service): parameters from upstream outputs,
change-set deploys skipped while nothing changed, plans, drift, deletes."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshlink.deploy.handlers import HANDLERS
from meshlink.errors import DeployError
from meshlink.graph.planner import Node
from meshlink.stacks.outputs import EdgeOutputs, PlatformOutputs, ServiceOutputs
from tests.unit.deploy.fakes import NETWORK, Mesh, Stub, template

EDGE = Node("edge", "user-service", "users")
ENDPOINTS = Node("endpoints", "user-service", "users")
SERVICE = Node("service", "user-service", "users")
QUIET = lambda message: None  # noqa: E731


def edge_mesh(tmp_path: Path) -> Mesh:
    mesh = Mesh(tmp_path)
    mesh.templates[mesh.stack("edge", "user-service")] = template(
        {"Nlb": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Svc": "AWS::EC2::VPCEndpointService"},
        {"VpcId": {"node": "network:users", "output": "vpc_id"}},
    )
    mesh.deployer.outputs_after_deploy[mesh.stack("edge", "user-service")] = {
        EdgeOutputs.SERVICE_ID: "vpce-svc-1"
    }
    return mesh


def test_up_fills_parameters_from_upstream_and_deploys(tmp_path: Path) -> None:
    mesh = edge_mesh(tmp_path)
    mesh.record("network:users", **NETWORK)
    outcome = HANDLERS["edge"].up(mesh.ctx, EDGE, QUIET)
    assert (outcome.status, outcome.detail) == ("done", "created (2 changes)")
    assert outcome.outputs == {EdgeOutputs.SERVICE_ID: "vpce-svc-1"}
    assert mesh.deployer.calls == [
        ("deploy", mesh.stack("edge", "user-service"), {"VpcId": "vpc-1"})
    ]
    assert mesh.runtime.journal.get("edge:user-service").parameters == {"VpcId": "vpc-1"}
    assert mesh.ctx.created("edge:user-service")  # the accept node accepts before looking
    # The wait was told how long CloudFormation should take (the run's scale: instant).
    assert mesh.deployer.expected[mesh.stack("edge", "user-service")] is not None


def test_up_skips_an_unchanged_healthy_stack_and_redeploys_an_unhealthy_one(
    tmp_path: Path,
) -> None:
    mesh = edge_mesh(tmp_path)
    mesh.record("network:users", **NETWORK)
    outcome = HANDLERS["edge"].up(mesh.ctx, EDGE, QUIET)
    mesh.runtime.journal.update("edge:user-service", status="done", outputs=outcome.outputs)
    again = HANDLERS["edge"].up(mesh.ctx, EDGE, QUIET)
    assert (again.status, again.detail) == ("unchanged", "fingerprint matches")
    assert len(mesh.deployer.calls) == 1

    name = mesh.stack("edge", "user-service")
    mesh.deployer.put(name, "UPDATE_ROLLBACK_COMPLETE", **{EdgeOutputs.SERVICE_ID: "vpce-svc-1"})
    assert HANDLERS["edge"].up(mesh.ctx, EDGE, QUIET).status == "done"
    assert [call[0] for call in mesh.deployer.calls] == ["deploy", "deploy"]


@pytest.mark.parametrize("state", ["available", "pendingAcceptance", "rejected"])
def test_an_edge_losing_its_last_consumer_rejects_live_connections_first(
    tmp_path: Path, state: str
) -> None:
    # AWS refuses to delete an endpoint service with live connections; the consumer's
    # endpoint may only go later (its endpoints stack, or as an orphan after the run).
    mesh = edge_mesh(tmp_path)
    mesh.record("network:users", **NETWORK)
    mesh.record("edge:user-service", **{EdgeOutputs.SERVICE_ID: "vpce-svc-1"})
    mesh.templates[mesh.stack("edge", "user-service")] = template(
        {"TaskSg": "AWS::EC2::SecurityGroup"},
        {"VpcId": {"node": "network:users", "output": "vpc_id"}},
    )
    ec2 = Stub(
        describe_vpc_endpoint_connections={
            "VpcEndpointConnections": [{"VpcEndpointId": "vpce-1", "VpcEndpointState": state}]
        },
        reject_vpc_endpoint_connections={"Unsuccessful": []},
    )
    mesh.client("users", "ec2", ec2)
    assert HANDLERS["edge"].up(mesh.ctx, EDGE, QUIET).status == "done"
    rejected = [kw for name, kw in ec2.calls if name == "reject_vpc_endpoint_connections"]
    if state == "rejected":
        assert rejected == []
    else:
        assert rejected == [{"ServiceId": "vpce-svc-1", "VpcEndpointIds": ["vpce-1"]}]
    assert [call[0] for call in mesh.deployer.calls] == ["deploy"]


def test_an_edge_keeping_its_endpoint_service_touches_no_connection(tmp_path: Path) -> None:
    mesh = edge_mesh(tmp_path)
    mesh.record("network:users", **NETWORK)
    mesh.record("edge:user-service", **{EdgeOutputs.SERVICE_ID: "vpce-svc-1"})
    ec2 = Stub()
    mesh.client("users", "ec2", ec2)
    assert HANDLERS["edge"].up(mesh.ctx, EDGE, QUIET).status == "done"
    assert ec2.calls == []


def test_up_refuses_when_an_upstream_node_is_not_deployed(tmp_path: Path) -> None:
    mesh = edge_mesh(tmp_path)
    with pytest.raises(DeployError) as caught:
        HANDLERS["edge"].up(mesh.ctx, EDGE, QUIET)
    assert caught.value.message == "network:users is not deployed"
    assert mesh.deployer.calls == []


def test_plan_create_unchanged_upstream_and_diff(tmp_path: Path) -> None:
    mesh = edge_mesh(tmp_path)
    plan = HANDLERS["edge"].plan(mesh.ctx, EDGE)
    assert plan.action == "create"
    assert [(c.action, c.logical_id) for c in plan.changes] == [("Add", "Nlb"), ("Add", "Svc")]

    name = mesh.stack("edge", "user-service")
    mesh.deployer.put(name, "CREATE_COMPLETE")
    plan = HANDLERS["edge"].plan(mesh.ctx, EDGE)
    assert (plan.action, plan.detail) == (
        "update",
        "cannot be planned yet: network:users is not deployed",
    )

    mesh.record("network:users", **NETWORK)
    outcome = HANDLERS["edge"].up(mesh.ctx, EDGE, QUIET)
    plan = HANDLERS["edge"].plan(mesh.ctx, EDGE)
    assert plan.action == "update"  # up itself would not skip it: no outputs recorded yet
    mesh.runtime.journal.update("edge:user-service", status="done", outputs=outcome.outputs)
    plan = HANDLERS["edge"].plan(mesh.ctx, EDGE)
    assert (plan.action, plan.detail) == ("unchanged", "fingerprint matches")

    mesh.runtime.journal.update("edge:user-service", fingerprint="older")
    plan = HANDLERS["edge"].plan(mesh.ctx, EDGE)
    assert plan.action == "update" and [c.logical_id for c in plan.changes] == ["Listener"]
    assert mesh.deployer.calls[-1] == ("diff", name, {"VpcId": "vpc-1"})


def test_endpoints_subnets_are_those_in_zones_the_provider_serves(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    name = mesh.stack("endpoints", "user-service")
    source = {"resolver": "shared_zone_subnets", "consumer": "user-service"}
    mesh.templates[name] = template(
        {"Endpoint": "AWS::EC2::VPCEndpoint"},
        {"Subnets": {**source, "provider": "notification-service"}},
    )
    mesh.record("network:users", **NETWORK)
    mesh.record("edge:user-service")
    mesh.record("edge:notification-service", **{EdgeOutputs.ZONE_IDS: "use1-az2,use1-az3"})
    HANDLERS["endpoints"].up(mesh.ctx, ENDPOINTS, QUIET)
    assert mesh.deployer.calls == [("deploy", name, {"Subnets": "subnet-b"})]


def test_service_up_waits_until_its_tasks_are_healthy(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    name = mesh.stack("service", "user-service")
    mesh.templates[name] = template({"Service": "AWS::ECS::Service"}, {})
    mesh.deployer.outputs_after_deploy[name] = {ServiceOutputs.ECS_SERVICE_ARN: "arn:svc"}
    mesh.record("platform:users", **{PlatformOutputs.CLUSTER_NAME: "cluster"})
    mesh.record("edge:user-service", **{EdgeOutputs.TARGET_GROUP_ARN: "arn:tg"})
    running = {"desiredCount": 2, "runningCount": 2, "deployments": [{}]}
    ecs = Stub(describe_services={"services": [running]})
    healthy = {"TargetHealth": {"State": "healthy"}}
    elbv2 = Stub(describe_target_health={"TargetHealthDescriptions": [healthy, healthy]})
    mesh.client("users", "ecs", ecs)
    mesh.client("users", "elbv2", elbv2)
    outcome = HANDLERS["service"].up(mesh.ctx, SERVICE, QUIET)
    assert outcome.detail == "created (1 changes), 2/2 tasks running, 2/2 targets healthy"
    assert ecs.calls == [("describe_services", {"cluster": "cluster", "services": ["arn:svc"]})]
    assert elbv2.calls == [("describe_target_health", {"TargetGroupArn": "arn:tg"})]


def test_live_outputs_only_of_a_healthy_stack(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    name = mesh.stack("edge", "user-service")
    assert HANDLERS["edge"].live_outputs(mesh.ctx, EDGE) is None
    mesh.deployer.put(name, "ROLLBACK_COMPLETE", ServiceId="vpce-svc-1")
    assert HANDLERS["edge"].live_outputs(mesh.ctx, EDGE) is None
    mesh.deployer.put(name, "UPDATE_COMPLETE", ServiceId="vpce-svc-1")
    assert HANDLERS["edge"].live_outputs(mesh.ctx, EDGE) == {"ServiceId": "vpce-svc-1"}


def test_drift_compares_the_live_stack_with_the_journal(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    name = mesh.stack("edge", "user-service")
    mesh.record("edge:user-service")
    mesh.live_stacks("users", {})
    drift = HANDLERS["edge"].drift(mesh.ctx, EDGE)
    assert (drift.stack, drift.live, drift.journal) == (name, None, "done")
    assert drift.differences == (f"stack {name} is absent but the journal says done",)

    mesh = Mesh(tmp_path / "other")
    mesh.live_stacks("users", {name: "CREATE_COMPLETE"})
    drift = HANDLERS["edge"].drift(mesh.ctx, EDGE)
    assert drift.differences == (f"stack {name} is deployed but the journal says pending",)
    mesh.record("edge:user-service")
    assert not HANDLERS["edge"].drift(mesh.ctx, EDGE).drifted


def test_down_deletes_the_stack_once(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    mesh.deployer.put(mesh.stack("edge", "user-service"), "CREATE_COMPLETE")
    first = HANDLERS["edge"].down(mesh.ctx, EDGE, QUIET)
    second = HANDLERS["edge"].down(mesh.ctx, EDGE, QUIET)
    assert (first.status, first.detail) == ("done", "deleted")
    assert (second.status, second.detail) == ("unchanged", "was not there")


def test_each_stack_kind_decides_its_own_edges(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path)
    topo = mesh.topology
    both = {("user-service", "notification-service"), ("notification-service", "user-service")}
    assert set(HANDLERS["platform"].affected_edges(topo, Node("platform", "users", "users"))) == (
        both
    )
    assert HANDLERS["endpoints"].affected_edges(topo, ENDPOINTS) == (
        ("user-service", "notification-service"),
    )
    for kind in ("edge", "service"):
        assert HANDLERS[kind].affected_edges(topo, Node(kind, "user-service", "users")) == (
            ("notification-service", "user-service"),
        )
