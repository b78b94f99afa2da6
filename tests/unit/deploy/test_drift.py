"""Drift detection and repair decisions, on canned AWS answers.

The same breakages run for real on the local cloud in tests/functional/test_drift_repair.py;
these pin down what each detector reports, which node owns it, how few calls it takes,
and what each repair calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.deploy.drift.detect import describe_rule, detect
from meshlink.deploy.drift.model import DriftReport, Finding
from meshlink.deploy.drift.repair import permission, repair_node
from meshlink.deploy.handlers.model import NodePlan
from meshlink.deploy.plan import MeshPlan, with_drift
from meshlink.graph.planner import plan_graph
from tests.unit.verify.fakes import ClientError, FakeRuntime, Stub, topology

USERS, NOTIFY = "users", "notify"
SERVICE = "vpce-svc-notify"
ENDPOINT = "vpce-user2notify"
ENDPOINT_GROUP = "sg-endpoint"
USER_TASKS, NOTIFY_TASKS, NOTIFY_NLB = "sg-user-tasks", "sg-notify-tasks", "sg-notify-nlb"
ARN = "arn:aws:ecs:us-east-1:222222222222:service/cluster-n/notification-service"


def _group(group_id: str, *pairs: tuple[int, str]) -> dict[str, Any]:
    return {
        "GroupId": group_id,
        "IpPermissions": [
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "UserIdGroupPairs": [{"GroupId": source}],
            }
            for port, source in pairs
        ],
    }


class Cloud:
    """A deployed one-edge slice of TWO_WAY (user-service -> notification-service)."""

    def __init__(self, tmp_path: Path) -> None:
        self.runtime = FakeRuntime(topology(), tmp_path)
        rt = self.runtime
        rt.record(
            "edge:notification-service",
            ServiceId=SERVICE,
            TaskSecurityGroupId=NOTIFY_TASKS,
            LoadBalancerSecurityGroupId=NOTIFY_NLB,
        )
        rt.record("edge:user-service", TaskSecurityGroupId=USER_TASKS)
        rt.record(
            "endpoints:user-service",
            EndpointNotificationServiceId=ENDPOINT,
            EndpointNotificationServiceSecurityGroupId=ENDPOINT_GROUP,
        )
        rt.record("accept:notification-service")
        rt.record("platform:notify", ClusterName="cluster-n")
        rt.record("service:notification-service", EcsServiceArn=ARN)
        self.principals = ["arn:aws:iam::111111111111:root"]
        self.endpoint_state = "available"
        self.connections = {ENDPOINT: "available"}
        self.groups = {
            ENDPOINT_GROUP: _group(ENDPOINT_GROUP, (8081, USER_TASKS)),
            USER_TASKS: _group(USER_TASKS),
            NOTIFY_TASKS: _group(NOTIFY_TASKS, (8081, NOTIFY_NLB)),
        }
        self.desired = 2
        self.acceptance = self.runtime.topology.services["notification-service"].acceptance_required
        self.endpoint_gone = False
        rt.clients[(USERS, "ec2")] = Stub(
            describe_vpc_endpoints=self._endpoints,
            describe_security_groups=self._groups,
        )
        rt.clients[(NOTIFY, "ec2")] = Stub(
            describe_security_groups=self._groups,
            describe_vpc_endpoint_connections=lambda **kw: {
                "VpcEndpointConnections": [
                    {"ServiceId": SERVICE, "VpcEndpointId": e, "VpcEndpointState": s}
                    for e, s in self.connections.items()
                ]
            },
            describe_vpc_endpoint_service_configurations=lambda **kw: {
                "ServiceConfigurations": [
                    {"ServiceId": SERVICE, "AcceptanceRequired": self.acceptance}
                ]
            },
            describe_vpc_endpoint_service_permissions=lambda **kw: {
                "AllowedPrincipals": [{"Principal": p} for p in self.principals]
            },
        )
        rt.clients[(NOTIFY, "ecs")] = Stub(
            describe_services=lambda **kw: {
                "services": [{"serviceArn": ARN, "status": "ACTIVE", "desiredCount": self.desired}]
            }
        )

    def _endpoints(self, **kwargs: Any) -> dict[str, Any]:
        if self.endpoint_gone:
            raise ClientError("InvalidVpcEndpointId.NotFound")
        return {"VpcEndpoints": [{"VpcEndpointId": ENDPOINT, "State": self.endpoint_state}]}

    def _groups(self, **kwargs: Any) -> dict[str, Any]:
        return {"SecurityGroups": [self.groups[g] for g in kwargs["GroupIds"] if g in self.groups]}

    def ec2(self, account: str) -> Stub:
        return self.runtime.clients[(account, "ec2")]  # type: ignore[no-any-return]

    def drift(self) -> dict[str, list[str]]:
        report = detect(self.runtime)  # type: ignore[arg-type]
        return {n: [f.what for f in fs] for n, fs in report.by_node().items()}


def test_a_mesh_as_deployed_has_no_drift_and_costs_one_call_per_kind(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)
    assert cloud.drift() == {}
    calls = [name for name, _ in cloud.ec2(USERS).calls + cloud.ec2(NOTIFY).calls]
    # batched: every group of an account in one describe, every connection in one
    assert sorted(calls) == sorted(
        [
            "describe_vpc_endpoints",
            "describe_security_groups",
            "describe_security_groups",
            "describe_vpc_endpoint_connections",
            "describe_vpc_endpoint_service_configurations",
            "describe_vpc_endpoint_service_permissions",
        ]
    )


def test_each_breakage_is_reported_on_the_node_that_owns_it(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)
    cloud.principals += ["*", "arn:aws:iam::333333333333:root"]
    cloud.connections = {ENDPOINT: "rejected", "vpce-stranger": "available"}
    cloud.endpoint_state = "rejected"
    cloud.groups[ENDPOINT_GROUP] = _group(ENDPOINT_GROUP)
    cloud.groups[NOTIFY_TASKS]["IpPermissions"].append(
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    )
    cloud.desired = 0
    assert cloud.drift() == {
        "edge:notification-service": [
            "principal * added",
            "principal arn:aws:iam::333333333333:root added",
            "rule all from 0.0.0.0/0 added",
        ],
        "endpoints:user-service": [f"rule tcp/8081 from {USER_TASKS} missing"],
        "accept:notification-service": [
            f"connection from {ENDPOINT} rejected",
            "connection from vpce-stranger not expected",
        ],
        "service:notification-service": ["desired 0, want 2"],
    }


def test_acceptance_turned_off_by_hand_is_drift_set_back_by_one_call(tmp_path: Path) -> None:
    # A redeploy of an unchanged template would not set it back: CloudFormation only
    # updates what its template changes.
    cloud = Cloud(tmp_path)
    want = cloud.acceptance
    cloud.acceptance = not want
    report = detect(cloud.runtime)  # type: ignore[arg-type]
    assert [(f.node, f.kind, f.what) for f in report.findings] == [
        (
            "edge:notification-service",
            "acceptance-required",
            f"acceptance_required {str(not want).lower()}, want {str(want).lower()}",
        )
    ]
    ec2 = Stub(modify_vpc_endpoint_service_configuration={})
    cloud.runtime.clients[(NOTIFY, "ec2")] = ec2
    node = plan_graph(cloud.runtime.topology).nodes["edge:notification-service"]
    ctx = RepairContext(cloud.runtime)
    repair_node(ctx, node, list(report.findings), lambda _: None)  # type: ignore[arg-type]
    assert ec2.calls == [
        (
            "modify_vpc_endpoint_service_configuration",
            {"ServiceId": SERVICE, "AcceptanceRequired": want},
        )
    ]


def test_a_deleted_endpoint_asks_for_its_stack_again_and_nothing_else(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)
    cloud.endpoint_gone = True  # the batched describe fails; the per-endpoint read says which
    cloud.connections = {ENDPOINT: "deleted"}
    report = detect(cloud.runtime)  # type: ignore[arg-type]
    assert [(f.node, f.what, f.how) for f in report.findings] == [
        ("endpoints:user-service", f"endpoint {ENDPOINT} deleted", "recreate")
    ]


def test_nodes_not_deployed_or_not_asked_for_are_not_read(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)
    cloud.desired = 0
    assert detect(cloud.runtime, ["edge:user-service"]).findings == ()  # type: ignore[arg-type]
    assert cloud.runtime.clients[(NOTIFY, "ecs")].calls == []
    empty = FakeRuntime(topology(), tmp_path / "empty")
    assert not detect(empty)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("grant", "text"),
    [
        ({"protocol": "tcp", "from_port": 8081, "to_port": 8081, "source_group": "sg-1"},
         "tcp/8081 from sg-1"),
        ({"protocol": "tcp", "from_port": 80, "to_port": 90, "cidr": "10.0.0.0/8"},
         "tcp/80-90 from 10.0.0.0/8"),
        ({"protocol": "-1", "from_port": None, "to_port": None, "cidr": "0.0.0.0/0"},
         "all from 0.0.0.0/0"),
    ],
)  # fmt: skip
def test_rules_read_as_people_write_them(grant: dict[str, Any], text: str) -> None:
    assert describe_rule(grant) == text


def test_a_grant_becomes_the_permission_that_adds_or_revokes_it() -> None:
    assert permission(
        {"protocol": "tcp", "from_port": 8081, "to_port": 8081, "source_group": "sg-1"}
    ) == {
        "IpProtocol": "tcp",
        "FromPort": 8081,
        "ToPort": 8081,
        "UserIdGroupPairs": [{"GroupId": "sg-1"}],
    }
    assert permission({"protocol": "-1", "cidr": "::/0"}) == {
        "IpProtocol": "-1",
        "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
    }


class RepairContext:
    def __init__(self, runtime: FakeRuntime) -> None:
        self.journal = runtime.journal
        self.runtime = runtime
        self.deleted: list[str] = []

    def client(self, account: str, service: str) -> Any:
        return self.runtime.client(account, service)

    def stack_name(self, node: Any) -> str:
        return f"stack-{node.id}"

    def deployer(self, account: str, progress: Any = None) -> Any:
        return self

    def delete(self, name: str) -> None:
        self.deleted.append(name)


def test_repairs_call_once_per_finding_and_forget_the_fingerprint(tmp_path: Path) -> None:
    runtime = FakeRuntime(topology(), tmp_path)
    runtime.journal.update("edge:notification-service", status="done", fingerprint="f1")
    ec2 = Stub(modify_vpc_endpoint_service_permissions={}, accept_vpc_endpoint_connections={})
    runtime.clients[(NOTIFY, "ec2")] = ec2
    node = plan_graph(runtime.topology).nodes["edge:notification-service"]
    args = {"account": NOTIFY, "service_id": SERVICE}
    findings = [
        Finding(node.id, "principal-added", "principal * added", "call",
                {**args, "principal": "*"}),
        Finding(node.id, "principal-missing", "principal x missing", "call",
                {**args, "principal": "x"}),
    ]  # fmt: skip
    said: list[str] = []
    ctx = RepairContext(runtime)
    detail = repair_node(ctx, node, findings, said.append)  # type: ignore[arg-type]
    assert ec2.calls == [
        ("modify_vpc_endpoint_service_permissions",
         {"ServiceId": SERVICE, "RemoveAllowedPrincipals": ["*"]}),
        ("modify_vpc_endpoint_service_permissions",
         {"ServiceId": SERVICE, "AddAllowedPrincipals": ["x"]}),
    ]  # fmt: skip
    assert detail == "repaired principal * added; principal x missing (2 calls)"
    assert said == ["repairing drift: principal * added", "repairing drift: principal x missing"]
    assert runtime.journal.get(node.id).fingerprint is None


def test_a_stack_made_again_makes_the_calls_moot(tmp_path: Path) -> None:
    runtime = FakeRuntime(topology(), tmp_path)
    node = plan_graph(runtime.topology).nodes["endpoints:user-service"]
    findings = [
        Finding(node.id, "recreate", "endpoint vpce-1 deleted", "recreate"),
        Finding(node.id, "rule-missing", "rule tcp/1 from sg-1 missing", "call", {}),
    ]
    ctx = RepairContext(runtime)
    detail = repair_node(ctx, node, findings, lambda message: None)  # type: ignore[arg-type]
    assert ctx.deleted == ["stack-endpoints:user-service"]
    assert detail.endswith("(stack made again)")


def test_plan_turns_an_unchanged_drifted_node_into_a_repair() -> None:
    plans = [
        NodePlan("edge:a", "unchanged", "fingerprint matches"),
        NodePlan("service:a", "update", "new image"),
        NodePlan("service:b", "unchanged", "fingerprint matches"),
    ]
    drift = DriftReport.of(
        [
            Finding("edge:a", "principal-added", "principal * added", "call"),
            Finding("service:a", "desired-count", "desired 0, want 2", "call"),
        ]
    )
    planned = MeshPlan(with_drift(plans, drift))
    assert [(p.node, p.action, p.detail, p.drift) for p in planned.nodes] == [
        ("edge:a", "repair", "principal * added", ["principal * added"]),
        ("service:a", "update", "new image", ["desired 0, want 2"]),
        ("service:b", "unchanged", "fingerprint matches", []),
    ]
    payload = planned.to_dict()
    assert payload["drift"] == {"edge:a": ["principal * added"], "service:a": ["desired 0, want 2"]}
    assert payload["totals"]["repair"] == 1
    assert drift.to_dict()["edge:a"] == [
        {"node": "edge:a", "kind": "principal-added", "what": "principal * added", "repair": "call"}
    ]


def test_status_counts_resource_drift_as_drifted() -> None:
    from meshlink.deploy.status import MeshStatus, NodeStatus

    node = NodeStatus(
        "edge:a", "x", "s", "UPDATE_COMPLETE", "done", resource_drift=["principal * added"]
    )
    accept = NodeStatus("accept:a", "x", None, None, "done", resource_drift=["connection x"])
    status = MeshStatus([node, accept], [])
    assert (node.verdict, accept.verdict) == ("drifted", "drifted")  # accept: not "absent"
    assert not status.ok
    assert status.to_dict()["nodes"][0]["resource_drift"] == ["principal * added"]
