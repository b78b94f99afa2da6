"""Drift on the real local cloud: broken by hand, shown by `plan` (and `status`),
repaired by `up`, then `verify` passes.

One deployment of examples/two-accounts.yaml for the module (CDK engine, 2 services).
The first round breaks six things at once, each owned by a different node; the second
deletes an endpoint, which only a new endpoints stack brings back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json, write_topology

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

MESH = "driftfix"
USERS, NOTIFY, STRANGER = "111111111111", "222222222222", "333333333333"
STRANGER_ARN = f"arn:aws:iam::{STRANGER}:root"


class Mesh:
    def __init__(self, topology: Path, sessions: SessionFactory) -> None:
        self.topology = topology
        self.sessions = sessions

    def outputs(self, node: str) -> dict[str, Any]:
        journal = self.topology.parent / ".meshlink" / MESH / "local" / "journal.json"
        return dict(json.loads(journal.read_text())["nodes"][node]["outputs"])

    def ec2(self, account: str) -> Any:
        return self.sessions.client(account, "ec2")

    def plan(self) -> dict[str, Any]:
        code, plan = cli_json(self.topology, "plan")
        assert code == 0, plan
        return dict(plan)

    def up(self, *args: str, exit_code: int = 0) -> dict[str, Any]:
        code, stdout, stderr = cli(self.topology, "--json", "up", "--yes", *args)
        lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        summary = next(e for e in reversed(lines) if e.get("event") == "summary")
        failed = {n: o for n, o in summary["nodes"].items() if o["status"] == "failed"}
        assert code == exit_code, json.dumps(failed, indent=1) + stderr[-3000:]
        return dict(summary)

    def verify_passes(self) -> None:
        code, stdout, stderr = cli(self.topology, "--json", "verify")
        report = json.loads(stdout)
        failed = [c for c in report["checks"] if c["status"] == "fail"]
        assert code == 0 and not failed, json.dumps(failed, indent=1) + stderr


@pytest.fixture(scope="module")
def mesh(local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    directory = tmp_path_factory.mktemp("drift")
    topology = write_topology(directory, "two-accounts.yaml", MESH)
    deployed = Mesh(topology, SessionFactory("local", "us-east-1", local_cloud.endpoint_url))
    deployed.up()
    yield deployed
    if "stranger" in BROKEN:
        service, endpoint = BROKEN["stranger"]
        deployed.ec2(USERS).reject_vpc_endpoint_connections(
            ServiceId=service, VpcEndpointIds=[endpoint]
        )
        deployed.ec2(STRANGER).delete_vpc_endpoints(VpcEndpointIds=[endpoint])
    cli(topology, "down", "--yes")


def _stranger_endpoint(mesh: Mesh) -> str:
    """An endpoint of another account connected to user-service's endpoint service."""
    edge = mesh.outputs("edge:user-service")
    stranger = mesh.ec2(STRANGER)
    vpc = stranger.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = stranger.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    zones = edge["ZoneIds"].split(",")
    subnet = next(s for s in subnets["Subnets"] if s["AvailabilityZoneId"] in zones)
    endpoint = stranger.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=vpc["VpcId"],
        ServiceName=edge["ServiceName"],
        SubnetIds=[subnet["SubnetId"]],
    )["VpcEndpoint"]["VpcEndpointId"]
    return str(endpoint)


def _wait_for_no_tasks(mesh: Mesh, cluster: str, service: str) -> None:
    ecs = mesh.sessions.client(NOTIFY, "ecs")
    deadline = time.monotonic() + 30
    while ecs.describe_services(cluster=cluster, services=[service])["services"][0]["runningCount"]:
        assert time.monotonic() < deadline, "the data plane did not stop the tasks"
        time.sleep(0.5)


# What the first round broke, for the tests after it (they run in file order, one mesh).
BROKEN: dict[str, Any] = {}


def test_six_breakages_are_planned_and_reported(mesh: Mesh) -> None:
    notify_service = mesh.outputs("edge:notification-service")["ServiceId"]
    users_service = mesh.outputs("edge:user-service")["ServiceId"]
    user_endpoint = mesh.outputs("endpoints:user-service")["EndpointNotificationServiceId"]
    endpoint_group = mesh.outputs("endpoints:notification-service")[
        "EndpointUserServiceSecurityGroupId"
    ]
    notify_tasks = mesh.outputs("edge:notification-service")["TaskSecurityGroupId"]
    cluster = mesh.outputs("platform:notify")["ClusterName"]
    ecs_service = mesh.outputs("service:notification-service")["EcsServiceArn"]
    notify, users = mesh.ec2(NOTIFY), mesh.ec2(USERS)

    # 1. a principal widened to *; 2. an extra principal
    notify.modify_vpc_endpoint_service_permissions(
        ServiceId=notify_service, AddAllowedPrincipals=["*"]
    )
    users.modify_vpc_endpoint_service_permissions(
        ServiceId=users_service, AddAllowedPrincipals=[STRANGER_ARN]
    )
    # 3. a connection from an endpoint meshlink did not make, accepted by hand
    stranger = _stranger_endpoint(mesh)
    BROKEN["stranger"] = (users_service, stranger)
    users.accept_vpc_endpoint_connections(ServiceId=users_service, VpcEndpointIds=[stranger])
    # 4. meshlink's own connection rejected
    notify.reject_vpc_endpoint_connections(ServiceId=notify_service, VpcEndpointIds=[user_endpoint])
    # 5. the endpoint's security-group rule revoked
    rule = {
        "IpProtocol": "tcp",
        "FromPort": 8080,
        "ToPort": 8080,
        "UserIdGroupPairs": [{"GroupId": notify_tasks}],
    }
    notify.revoke_security_group_ingress(GroupId=endpoint_group, IpPermissions=[rule])
    # 6. the provider scaled to 0
    mesh.sessions.client(NOTIFY, "ecs").update_service(
        cluster=cluster, service=ecs_service, desiredCount=0
    )
    _wait_for_no_tasks(mesh, cluster, ecs_service)

    expected = {
        "edge:notification-service": ["principal * added"],
        "edge:user-service": [f"principal {STRANGER_ARN} added"],
        "accept:user-service": [f"connection from {stranger} not expected"],
        "accept:notification-service": [f"connection from {user_endpoint} rejected"],
        "endpoints:notification-service": [f"rule tcp/8080 from {notify_tasks} missing"],
        "service:notification-service": ["desired 0, want 2"],
    }
    BROKEN["expected"] = expected
    plan = mesh.plan()
    assert plan["drift"] == expected, json.dumps(plan["nodes"], indent=1)
    actions = {n["node"]: n["action"] for n in plan["nodes"]}
    assert {n: actions[n] for n in expected} == {
        **dict.fromkeys(expected, "repair"),
        # up rejects an unexpected connection anyway: the plan said reconcile before
        "accept:user-service": "reconcile",
    }
    assert plan["totals"]["repair"] == 5
    code, stdout, _ = cli(mesh.topology, "plan")
    assert code == 0
    assert "desired 0, want 2" in stdout and "5 to repair (drift)" in stdout
    # status reports the same drift (exit 1: drifted is not fine)
    code, status = cli_json(mesh.topology, "status")
    assert code == 1
    drifted = {n["node"]: n["resource_drift"] for n in status["nodes"] if n["verdict"] == "drifted"}
    assert drifted == expected


def test_no_repair_leaves_the_drift(mesh: Mesh) -> None:
    expected = dict(BROKEN["expected"])
    # today's up: it skips what the topology did not change, and fails on the rejected
    # connection it waits for
    summary = mesh.up("--no-repair", exit_code=1)
    assert summary["repaired"] == {}
    assert summary["nodes"]["service:notification-service"]["status"] == "unchanged"
    rejected = summary["nodes"]["accept:notification-service"]
    assert rejected["status"] == "failed" and "is rejected" in rejected["detail"], rejected
    # ... and it rejected the unexpected connection, as every up does
    del expected["accept:user-service"]
    assert mesh.plan()["drift"] == expected
    BROKEN["expected"] = expected


def test_up_repairs_and_verifies_every_drifted_node(mesh: Mesh) -> None:
    expected = BROKEN["expected"]
    summary = mesh.up()
    assert summary["repaired"] == expected
    for node in expected:
        assert summary["nodes"][node]["status"] == "done", summary["nodes"][node]
        assert "verified" in summary["nodes"][node]["detail"], summary["nodes"][node]
    assert mesh.plan()["drift"] == {}
    mesh.verify_passes()


def test_deleted_endpoint_comes_back_with_a_new_stack(mesh: Mesh) -> None:
    endpoint = mesh.outputs("endpoints:user-service")["EndpointNotificationServiceId"]
    mesh.ec2(USERS).delete_vpc_endpoints(VpcEndpointIds=[endpoint])
    plan = mesh.plan()
    assert plan["drift"] == {"endpoints:user-service": [f"endpoint {endpoint} deleted"]}
    summary = mesh.up()
    assert summary["repaired"] == {"endpoints:user-service": [f"endpoint {endpoint} deleted"]}
    assert "stack made again" in summary["nodes"]["endpoints:user-service"]["detail"]
    again = mesh.outputs("endpoints:user-service")["EndpointNotificationServiceId"]
    assert again != endpoint
    assert mesh.plan()["drift"] == {}
    mesh.verify_passes()


def test_a_revoked_task_rule_is_restored_and_up_waits_for_its_targets(mesh: Mesh) -> None:
    """The NLB's way into its tasks revoked: the targets fail their health checks. up
    restores the rule, then waits for the targets to pass again before it verifies."""
    edge = mesh.outputs("edge:notification-service")
    ec2 = mesh.ec2(NOTIFY)
    group = edge["TaskSecurityGroupId"]
    (found,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
    (rule,) = [
        p
        for p in found["IpPermissions"]
        if any(
            pair["GroupId"] == edge["LoadBalancerSecurityGroupId"]
            for pair in p.get("UserIdGroupPairs", [])
        )
    ]
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[rule])
    drifted = mesh.plan()["drift"]
    assert list(drifted) == ["edge:notification-service"], drifted
    assert "missing" in drifted["edge:notification-service"][0]
    summary = mesh.up()
    outcome = summary["nodes"]["edge:notification-service"]
    assert outcome["status"] == "done" and "verified" in outcome["detail"], outcome
    assert mesh.plan()["drift"] == {}
    mesh.verify_passes()


def _calls(local_cloud: LocalCloudInfo) -> dict[tuple[str, str], int]:
    """(account, operation) -> calls meshlink's runs of this mesh made so far."""
    from meshlink.localcloud.api_log import fetch

    record = fetch(local_cloud.endpoint_url, session=f"meshlink-{MESH}-")
    return {
        (account, entry["operation"]): entry["calls"]
        for account, entries in record["accounts"].items()
        for entry in entries
    }


def test_a_noop_up_reads_each_accounts_stacks_once(mesh: Mesh, local_cloud: LocalCloudInfo) -> None:
    before = _calls(local_cloud)
    summary = mesh.up()
    assert {n: o["status"] for n, o in summary["nodes"].items() if o["status"] != "unchanged"} == {}
    made = {k: n - before.get(k, 0) for k, n in _calls(local_cloud).items() if n > before.get(k, 0)}
    # One DescribeStacks listing per account serves the ownership check, every node's
    # skip test and the orphan search; the zones and identities were known already.
    assert {a: n for (a, op), n in made.items() if op == "DescribeStacks"} == {USERS: 1, NOTIFY: 1}
    assert not [k for k in made if k[1] in ("DescribeAvailabilityZones", "GetCallerIdentity")]
    assert not [k for k in made if k[1].startswith(("Create", "Update", "Delete", "Modify"))]
