"""`meshlink up / plan / status / down` against the real local cloud."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json, leftovers, local_cli, write_topology

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]
BAD_ARN = "arn:aws:elasticloadbalancing:us-east-1:222222222222:loadbalancer/net/nope/0123456789"


@pytest.fixture()
def workdir(local_cloud: LocalCloudInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
    return tmp_path


def test_up_noop_update_status_down(workdir: Path, local_sessions: Any) -> None:
    topology = write_topology(workdir, "two-accounts.yaml", "lifecycle")
    code, plan = cli_json(topology, "plan")
    assert code == 0
    assert plan["totals"] == {
        "create": 10,
        "update": 0,
        "replace": 0,
        # acceptance_required defaults to true: both accept nodes accept their consumer.
        "unchanged": 0,
        "reconcile": 2,
        "delete": 0,
        "repair": 0,  # nothing deployed yet, so nothing drifted
    }

    code, summary = cli_json(topology, "up", "--yes")
    assert code == 0, summary
    assert summary["ok"] is True and summary["counts"]["done"] >= 11

    code, status = cli_json(topology, "status")
    assert code == 0
    assert {(e["consumer"], e["provider"], e["state"]) for e in status["edges"]} == {
        ("user-service", "notification-service", "available"),
        ("notification-service", "user-service", "available"),
    }
    assert all(n["stack_status"] == "CREATE_COMPLETE" for n in status["nodes"] if n["stack"])

    # The endpoint carries real traffic: its DNS name resolves to a loopback address
    # where the provider's own /health answers (the host may call in, like curl would).
    edge = next(e for e in status["edges"] if e["consumer"] == "user-service")
    code, address, _ = local_cli("resolve", edge["dns_name"])
    address = address.strip()
    assert code == 0 and address.startswith("127.")
    import httpx

    answer = httpx.get(f"http://{address}:8081/health", timeout=10).json()
    assert answer == {"status": "healthy", "service": "notification-service"}
    code, logs, _ = local_cli("logs", "notification-service", "-n", "5")
    assert code == 0 and "==> 222222222222/" in logs

    code, summary = cli_json(topology, "up", "--yes")
    assert code == 0
    assert summary["counts"] == {"unchanged": 12}

    text = topology.read_text().replace(
        "    port: 8081\n    desired_count: 2", "    port: 8081\n    desired_count: 3"
    )
    topology.write_text(text)
    code, plan = cli_json(topology, "plan")
    changed = {n["node"]: n for n in plan["nodes"] if n["action"] != "unchanged"}
    assert set(changed) == {"service:notification-service"}
    assert [c["logical_id"] for c in changed["service:notification-service"]["changes"]] == [
        "Service"
    ]
    code, summary = cli_json(topology, "up", "--yes")
    assert code == 0
    done = {n for n, o in summary["nodes"].items() if o["status"] == "done"}
    assert done == {"service:notification-service"}

    # A service removed from the topology: plan says its stacks go, up deletes them.
    text = topology.read_text()
    text = text[: text.index("  notification-service:\n")].replace(
        "    consumes: [notification-service]\n", ""
    )
    topology.write_text(text)
    code, plan = cli_json(topology, "plan")
    deleted = {n["node"] for n in plan["nodes"] if n["action"] == "delete"}
    assert deleted == {
        "service:notification-service",
        "endpoints:notification-service",
        "edge:notification-service",
        "endpoints:user-service",
    }
    code, summary = cli_json(topology, "up", "--yes")
    assert code == 0, summary
    assert {n for n, o in summary["nodes"].items() if "no longer" in (o["detail"] or "")} == deleted
    code, plan = cli_json(topology, "plan")
    assert plan["totals"]["delete"] == 0

    code, _, stderr = cli(topology, "down", "--yes", "--only", "network")
    assert code == 2 and "stacks still use them" in stderr

    code, summary = cli_json(topology, "down", "--yes")
    assert code == 0, summary
    assert leftovers(local_sessions, ["111111111111", "222222222222"], "lifecycle") == {}
    code, summary = cli_json(topology, "down", "--yes")  # idempotent
    assert code == 0


def test_failing_node_stops_dependants_and_up_resumes(workdir: Path) -> None:
    from meshlink.deploy.run import up
    from meshlink.deploy.runtime import MeshRuntime, RunOptions
    from meshlink.engines.cdk.synth import Synthesized
    from meshlink.topology.loader import load_topology

    topology_path = write_topology(workdir, "two-accounts.yaml", "failing")
    topology = load_topology(topology_path)
    options = RunOptions(workdir=workdir)

    def broken(runtime: MeshRuntime) -> Synthesized:
        # The real templates, with one bad parameter injected into one edge stack.
        real = MeshRuntime(topology, options).synthesized()
        templates = json.loads(json.dumps(real.templates))
        edge = templates["meshlink-failing-edge-notification-service"]
        edge["Resources"]["Listener"]["Properties"]["LoadBalancerArn"] = BAD_ARN
        return Synthesized(templates, real.assembly_dir, real.cached)

    report = up(MeshRuntime(topology, options, synthesize=broken))
    assert report.outcomes["edge:notification-service"].status == "failed"
    detail = report.outcomes["edge:notification-service"].detail or ""
    assert "Listener (AWS::ElasticLoadBalancingV2::Listener) failed" in detail
    for dependant in (
        "endpoints:user-service",
        "endpoints:notification-service",
        "accept:notification-service",
        "service:notification-service",
    ):
        assert report.outcomes[dependant].status == "skipped", dependant
    for independent in ("edge:user-service", "platform:users", "platform:notify"):
        assert report.outcomes[independent].status == "done", independent

    code, stdout, stderr = cli(topology_path, "up", "--yes")
    assert code == 0, stdout + stderr
    code, summary = cli_json(topology_path, "up", "--yes")
    assert summary["counts"] == {"unchanged": 12}
    assert cli(topology_path, "down", "--yes")[0] == 0


def test_failed_up_exits_1_naming_the_resource(workdir: Path) -> None:
    topology = write_topology(workdir, "two-accounts.yaml", "exitcode")
    # An external service that does not exist: the endpoint cannot be created.
    text = (
        topology.read_text()
        .replace(
            "services:\n",
            "external:\n  billing: { service_name: com.amazonaws.vpce.us-east-1.vpce-svc-0nope, "
            "port: 443 }\nservices:\n",
        )
        .replace("consumes: [notification-service]", "consumes: [notification-service, billing]")
    )
    topology.write_text(text)
    code, _stdout, stderr = cli(topology, "up", "--yes")
    assert code == 1
    assert "✗ endpoints:user-service" in stderr
    assert "billing" in stderr
    assert cli(topology, "down", "--yes")[0] == 0


def test_lock_held_by_a_live_run_exits_3(workdir: Path) -> None:
    from meshlink.graph.lock import mesh_lock

    topology = write_topology(workdir, "two-accounts.yaml", "locked")
    with mesh_lock(workdir / ".meshlink" / "locked" / "local", "meshlink up"):
        code, _, stderr = cli(topology, "up", "--yes")
        assert code == 3
        assert f"'meshlink up' (pid {os.getpid()}" in stderr
        assert cli(topology, "down", "--yes")[0] == 3


def test_killed_up_resumes_and_lost_journal_is_rebuilt(workdir: Path) -> None:
    topology = write_topology(workdir, "two-accounts.yaml", "resume")
    journal = workdir / ".meshlink" / "resume" / "local" / "journal.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meshlink.cli.app",
            "-f",
            str(topology),
            "up",
            "--yes",
            "--workdir",
            str(workdir),
            "--concurrency",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if journal.exists():
            nodes = json.loads(journal.read_text())["nodes"]
            if sum(1 for n in nodes.values() if n["status"] == "done") >= 3:
                break
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    nodes = json.loads(journal.read_text())["nodes"]
    finished_before = {n for n, r in nodes.items() if r["status"] == "done"}
    assert 3 <= len(finished_before) < 12

    code, summary = cli_json(topology, "up", "--yes")  # the dead run's lock is taken over
    assert code == 0, summary
    for nid in finished_before:
        assert summary["nodes"][nid]["status"] == "unchanged", nid

    journal.unlink()
    code, summary = cli_json(topology, "up", "--yes")
    assert code == 0, summary
    assert all(o["status"] in ("unchanged", "done") for o in summary["nodes"].values())
    assert cli(topology, "down", "--yes")[0] == 0


def test_principal_role_allows_only_the_deploy_role(workdir: Path, local_sessions: Any) -> None:
    topology = write_topology(
        workdir,
        "two-accounts.yaml",
        "rolemesh",
        **{"vpc_cidr: 10.1.0.0/16 }": "vpc_cidr: 10.1.0.0/16, principal: role }"},
    )
    code, summary = cli_json(topology, "up", "--yes")
    assert code == 0, summary
    journal = json.loads((workdir / ".meshlink/rolemesh/local/journal.json").read_text())
    service_id = journal["nodes"]["edge:notification-service"]["outputs"]["ServiceId"]
    ec2 = local_sessions.client("222222222222", "ec2")
    allowed = ec2.describe_vpc_endpoint_service_permissions(ServiceId=service_id)
    assert [p["Principal"] for p in allowed["AllowedPrincipals"]] == [
        "arn:aws:iam::111111111111:role/MeshlinkDeploy"
    ]
    code, status = cli_json(topology, "status")
    assert {e["state"] for e in status["edges"]} == {"available"}
    # Another identity of the same account is not the allowed role: it cannot connect.
    import boto3
    from botocore.exceptions import ClientError

    base = boto3.Session(
        aws_access_key_id="meshlink", aws_secret_access_key="meshlink", region_name="us-east-1"
    )
    sts = base.client("sts", endpoint_url=local_sessions.endpoint_url)
    other = sts.assume_role(
        RoleArn="arn:aws:iam::111111111111:role/SomeoneElse", RoleSessionName="other"
    )["Credentials"]
    intruder = boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=local_sessions.endpoint_url,
        aws_access_key_id=other["AccessKeyId"],
        aws_secret_access_key=other["SecretAccessKey"],
        aws_session_token=other["SessionToken"],
    )
    network = journal["nodes"]["network:users"]["outputs"]
    service_name = journal["nodes"]["edge:notification-service"]["outputs"]["ServiceName"]
    with pytest.raises(ClientError) as refused:
        intruder.create_vpc_endpoint(
            VpcEndpointType="Interface",
            VpcId=network["vpc_id"],
            ServiceName=service_name,
            SubnetIds=network["private_subnet_ids"][:1],
        )
    assert refused.value.response["Error"]["Code"] == "InvalidServiceName"
    assert cli(topology, "down", "--yes")[0] == 0


def test_a_mesh_never_takes_another_meshs_stacks_for_its_own(workdir: Path) -> None:
    # "pfx-edge" stacks are named meshlink-pfx-edge-...: to mesh "pfx" they look like
    # edge stacks of a service called "edge-...". Only the meshlink:mesh tag tells.
    one = (
        'name: {name}\naccounts:\n  a: {{ id: "555555555555", vpc_cidr: 10.5.0.0/16 }}\n'
        "services:\n  web: {{ account: a, port: {port}, desired_count: 1 }}\n"
    )
    (workdir / "pfx").mkdir()
    (workdir / "other").mkdir()
    first = workdir / "pfx" / "pfx.yaml"
    first.write_text(one.format(name="pfx", port=8080))
    second = workdir / "other" / "pfx-edge.yaml"
    second.write_text(one.format(name="pfx-edge", port=8081))
    assert cli(second, "up", "--yes")[0] == 0
    assert cli(first, "up", "--yes")[0] == 0
    code, plan = cli_json(first, "plan")
    assert code == 0 and plan["totals"]["delete"] == 0
    code, status = cli_json(second, "status")
    assert {n["stack_status"] for n in status["nodes"] if n["stack"]} == {"CREATE_COMPLETE"}
    assert cli(first, "down", "--yes")[0] == 0
    code, status = cli_json(second, "status")
    assert code == 0
    assert {n["stack_status"] for n in status["nodes"] if n["stack"]} == {"CREATE_COMPLETE"}
    assert cli(second, "down", "--yes")[0] == 0
