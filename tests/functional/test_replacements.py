"""A port change replaces what must be replaced, and the mesh still works (real local cloud).

The NLB and the target group carry no custom name (CloudFormation refuses to replace a
custom-named resource), so `up` after a port change succeeds; `plan` shows the
replacement first, with its reason; `verify` passes afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli_json, write_topology

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

PROVIDER = "222222222222"
EDGE = "meshlink-swap-edge-notification-service"


@pytest.fixture()
def workdir(local_cloud: LocalCloudInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
    return tmp_path


def edge_outputs(local_sessions: Any) -> dict[str, str]:
    cfn = local_sessions.client(PROVIDER, "cloudformation")
    (stack,) = cfn.describe_stacks(StackName=EDGE)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def test_a_port_change_replaces_the_target_group_and_the_mesh_verifies(
    workdir: Path, local_sessions: Any
) -> None:
    path = write_topology(
        workdir, "two-accounts.yaml", "swap", **{"desired_count: 2": "desired_count: 1"}
    )
    code, summary = cli_json(path, "up", "--yes")
    assert code == 0, {n: o for n, o in summary["nodes"].items() if o["status"] == "failed"}
    elb = local_sessions.client(PROVIDER, "elbv2")
    before = edge_outputs(local_sessions)
    # CloudFormation named the NLB and the target group, not meshlink.
    (nlb,) = elb.describe_load_balancers(LoadBalancerArns=[before["LoadBalancerArn"]])[
        "LoadBalancers"
    ]
    assert nlb["LoadBalancerName"] != "swap-notification-service"
    tags = elb.describe_tags(ResourceArns=[nlb["LoadBalancerArn"]])["TagDescriptions"][0]
    assert {"Key": "meshlink:node", "Value": "edge:notification-service"} in tags["Tags"]

    path.write_text(path.read_text().replace("port: 8081", "port: 8091"))
    code, plan = cli_json(path, "plan")
    assert code == 0, plan
    edge = next(n for n in plan["nodes"] if n["node"] == "edge:notification-service")
    assert edge["action"] == "replace"
    assert "TargetGroup (Port requires recreation)" in edge["detail"]
    replaced = {r.split(" (")[0] for r in edge["detail"].removeprefix("replaces ").split("; ")}
    assert "LoadBalancer" not in replaced  # the NLB itself is kept

    code, summary = cli_json(path, "up", "--yes")
    assert code == 0, {n: o for n, o in summary["nodes"].items() if o["status"] == "failed"}
    after = edge_outputs(local_sessions)
    assert after["LoadBalancerArn"] == before["LoadBalancerArn"]
    assert after["TargetGroupArn"] != before["TargetGroupArn"]
    live = {g["TargetGroupArn"]: g["Port"] for g in elb.describe_target_groups()["TargetGroups"]}
    assert live.get(after["TargetGroupArn"]) == 8091
    assert before["TargetGroupArn"] not in live  # the old one went after the new one came
    (listener,) = elb.describe_listeners(LoadBalancerArn=after["LoadBalancerArn"])["Listeners"]
    assert listener["Port"] == 8091

    code, report = cli_json(path, "verify")
    assert code == 0, [c for c in report.get("checks", []) if c.get("status") != "pass"]

    code, summary = cli_json(path, "down", "--yes")
    assert code == 0, summary
