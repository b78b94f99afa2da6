"""`plan` tells what `up` then does, node for node, on both examples (real local cloud);
the full mesh, deployed once, also verifies green.

A port change replaces the target group (the NLB and the target group carry no custom
name: CloudFormation refuses to replace a custom-named resource), keeps the NLB, and the
mesh verifies afterwards.

The nodes plan says create/update/replace/reconcile/delete are exactly those up reports
done; the nodes plan says unchanged are exactly those up reports unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json, leftovers, write_topology

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]
BAD_ARN = "arn:aws:elasticloadbalancing:us-east-1:222222222222:loadbalancer/net/nope/0123456789"
AUDIT = (
    "  audit-service:\n    account: users\n    port: 8090\n    desired_count: 1\n"
    "    consumes: [notification-service]\n"
)


@pytest.fixture()
def workdir(local_cloud: LocalCloudInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
    return tmp_path


def plan_then_up(topology: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """plan, then up; asserts up did to each node what plan said. (plan, up summary)."""
    code, plan = cli_json(topology, "plan")
    assert code == 0, plan
    code, summary = cli_json(topology, "up", "--yes")
    assert code == 0, summary
    planned = {n["node"]: n["action"] for n in plan["nodes"]}
    outcomes = {nid: o["status"] for nid, o in summary["nodes"].items()}
    acted = {nid for nid, action in planned.items() if action != "unchanged"}
    assert acted == {nid for nid, status in outcomes.items() if status == "done"}, (
        planned,
        outcomes,
    )
    kept = {nid for nid, action in planned.items() if action == "unchanged"}
    assert kept == {nid for nid, status in outcomes.items() if status == "unchanged"}
    return plan, summary


def outputs(cfn: Any, stack: str) -> dict[str, str]:
    (found,) = cfn.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in found["Outputs"]}


def node(plan: dict[str, Any], nid: str) -> dict[str, Any]:
    return next(n for n in plan["nodes"] if n["node"] == nid)


def fail_an_edge_update(topology_path: Path, workdir: Path, stack: str) -> None:
    """`up` with a listener that cannot be created added to one edge stack's update."""
    from meshlink.deploy.run import up
    from meshlink.deploy.runtime import MeshRuntime, RunOptions
    from meshlink.engines.cdk.synth import Synthesized
    from meshlink.topology.loader import load_topology

    topology = load_topology(topology_path)
    options = RunOptions(workdir=workdir)

    def broken(runtime: MeshRuntime) -> Synthesized:
        real = MeshRuntime(topology, options).synthesized()
        templates = json.loads(json.dumps(real.templates))
        resources = templates[stack]["Resources"]
        resources["Broken"] = json.loads(json.dumps(resources["Listener"]))
        resources["Broken"]["Properties"]["LoadBalancerArn"] = BAD_ARN
        return Synthesized(templates, real.assembly_dir, real.cached)

    report = up(MeshRuntime(topology, options, synthesize=broken))
    assert report.outcomes["edge:notification-service"].status == "failed"


def test_plan_is_what_up_does_on_two_accounts(workdir: Path, local_sessions: Any) -> None:
    topology = write_topology(workdir, "two-accounts.yaml", "truth")
    stack = "meshlink-truth-edge-notification-service"
    cfn = local_sessions.client("222222222222", "cloudformation")

    plan, _ = plan_then_up(topology)  # fresh
    assert {n["action"] for n in plan["nodes"]} == {"create", "reconcile"}
    # acceptance_required defaults to true: every accept node accepts its consumers.
    assert node(plan, "accept:user-service")["action"] == "reconcile"
    # CloudFormation named the NLB and the target group, not meshlink: both can be replaced.
    elb = local_sessions.client("222222222222", "elbv2")
    first = outputs(cfn, stack)
    (nlb,) = elb.describe_load_balancers(LoadBalancerArns=[first["LoadBalancerArn"]])[
        "LoadBalancers"
    ]
    assert nlb["LoadBalancerName"] != "truth-notification-service"
    tags = elb.describe_tags(ResourceArns=[nlb["LoadBalancerArn"]])["TagDescriptions"][0]
    assert {"Key": "meshlink:node", "Value": "edge:notification-service"} in tags["Tags"]

    plan, _ = plan_then_up(topology)  # no-op
    assert plan["totals"]["unchanged"] == len(plan["nodes"])

    # A port change whose update fails rolls back; the next plan does not call it unchanged.
    topology.write_text(topology.read_text().replace("port: 8081", "port: 8082"))
    before = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    fail_an_edge_update(topology, workdir, stack)
    after = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert after["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert after["Outputs"] == before["Outputs"]  # the previous target group, port 8081

    plan, summary = plan_then_up(topology)  # the port change, for real this time
    edge = node(plan, "edge:notification-service")
    assert edge["action"] == "replace"
    assert edge["detail"] == (
        "replaces LoadBalancerToTasks (FromPort, ToPort require recreation); "
        "TasksFromLoadBalancer (FromPort, ToPort require recreation); "
        "TargetGroup (Port requires recreation)"
    )
    target_group = next(c for c in edge["changes"] if c["logical_id"] == "TargetGroup")
    assert target_group["replaced_by"] == ["Port"]
    (port,) = target_group["properties"]
    assert (port["before"], port["after"]) == ("8081", "8082")
    assert node(plan, "service:notification-service")["action"] == "update"
    # The consumer's security group rule on the port is replaced; its endpoint is kept,
    # so there is no connection to accept again.
    endpoints = node(plan, "endpoints:user-service")
    assert endpoints["action"] == "replace"
    assert all(
        c["replacement"] != "True"
        for c in endpoints["changes"]
        if c["resource_type"][-8:] == "Endpoint"
    )
    assert node(plan, "accept:notification-service")["action"] == "unchanged"
    assert node(plan, "edge:user-service")["action"] == "unchanged"
    # The NLB is kept, the target group replaced: the new one came before the old one went.
    replaced = outputs(cfn, stack)
    assert replaced["LoadBalancerArn"] == first["LoadBalancerArn"]
    assert replaced["TargetGroupArn"] != first["TargetGroupArn"]
    live = {g["TargetGroupArn"]: g["Port"] for g in elb.describe_target_groups()["TargetGroups"]}
    assert live.get(replaced["TargetGroupArn"]) == 8082
    assert first["TargetGroupArn"] not in live
    (listener,) = elb.describe_listeners(LoadBalancerArn=replaced["LoadBalancerArn"])["Listeners"]
    assert listener["Port"] == 8082
    code, status = cli_json(topology, "status")
    assert {e["state"] for e in status["edges"]} == {"available"}
    code, report = cli_json(topology, "verify")  # and the mesh still works
    assert code == 0, [c for c in report["checks"] if c["status"] != "pass"]

    # A service added, then removed.
    text = topology.read_text()
    topology.write_text(text + AUDIT)
    plan, _ = plan_then_up(topology)
    assert node(plan, "edge:audit-service")["action"] == "create"
    assert node(plan, "accept:notification-service")["action"] == "reconcile"
    topology.write_text(text)
    plan, _ = plan_then_up(topology)
    assert {n["node"] for n in plan["nodes"] if n["action"] == "delete"} == {
        "edge:audit-service",
        "endpoints:audit-service",
        "service:audit-service",
    }

    code, summary = cli_json(topology, "down", "--yes")
    assert code == 0 and set(summary["counts"]) == {"done"}, summary["nodes"]
    code, summary = cli_json(topology, "down", "--yes")  # nothing left to delete
    assert code == 0 and summary["counts"] == {"unchanged": len(summary["nodes"])}
    details = {o["detail"] for o in summary["nodes"].values()}
    assert all(d.startswith("not deployed") or d == "was not there" for d in details), details


def test_plan_is_what_up_does_on_the_full_mesh(workdir: Path, local_sessions: Any) -> None:
    """full-mesh-4, the example a user runs first: plan is what up does (fresh and no-op),
    every VPC spans the same zone ids, and it verifies and draws green (one deployment)."""
    topology = write_topology(workdir, "full-mesh-4.yaml", "truth4")
    plan_then_up(topology)

    # Four accounts whose zone names map to different zone ids: every VPC spans the same
    # zone ids, which each account calls by different names.
    journal = json.loads((workdir / ".meshlink/truth4/local/journal.json").read_text())
    networks = [f"network:{a}" for a in ("orders", "payments", "shipping", "inventory")]
    outputs = [journal["nodes"][n]["outputs"] for n in networks]
    assert len({tuple(o["az_ids"]) for o in outputs}) == 1
    assert len({tuple(o["azs"]) for o in outputs}) > 1

    code, report = cli_json(topology, "verify", "--deep")
    assert code == 0, [c for c in report["checks"] if c["status"] != "pass"]
    assert report["summary"]["probes"] == 12
    assert len(report["edges"]) == 12
    assert {e["state"] for e in report["edges"]} == {"pass"}
    # Endpoints sit only in zones the provider serves, compared by zone id.
    zone_checks = [c["evidence"] for c in report["checks"] if c["check"] == "endpoint.zones"]
    assert zone_checks
    for evidence in zone_checks:
        zones = set(evidence["endpoint_subnet_zone_ids"].values())
        assert zones and zones <= set(evidence["service_zone_ids"])
    code, drawn, _ = cli(topology, "graph", "--verify")
    assert code == 0
    assert drawn.count("|pass|") == 12

    plan, _ = plan_then_up(topology)
    assert plan["totals"]["unchanged"] == len(plan["nodes"])
    assert cli(topology, "down", "--yes")[0] == 0
    accounts = ["111111111111", "222222222222", "333333333333", "444444444444"]
    assert leftovers(local_sessions, accounts, "truth4") == {}
