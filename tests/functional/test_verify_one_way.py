"""Negative probes on the real local cloud: what is not an edge must stay unreachable.

alpha (account a) consumes beta and gamma (account b, one VPC); nobody consumes alpha.
Every other ordered pair between beta and gamma is probed at the provider's NLB and must
get no answer - inside one VPC too. alpha has no NLB to aim at (consumed by no one):
its non-edges are skipped with that reason, never claimed as probed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshlink.aws.sessions import SessionFactory
from meshlink.cli.app import app
from meshlink.localcloud.info import LocalCloudInfo

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

MESH = "vfyoneway"
TOPOLOGY = f"""\
name: {MESH}
region: us-east-1
target: local
network: {{ engine: cdk, az_count: 2, nat_gateways: none }}
accounts:
  a: {{ id: "111111111111", vpc_cidr: 10.41.0.0/16 }}
  b: {{ id: "222222222222", vpc_cidr: 10.42.0.0/16 }}
services:
  alpha: {{ account: a, port: 8080, desired_count: 1, consumes: [beta, gamma] }}
  beta: {{ account: b, port: 8081, desired_count: 1 }}
  gamma: {{ account: b, port: 8082, desired_count: 1 }}
"""
PROBED_NON_EDGES = {"beta->gamma", "gamma->beta"}
UNCONSUMED_NON_EDGES = {"beta->alpha", "gamma->alpha"}
runner = CliRunner()


@pytest.fixture(scope="module")
def topology(
    local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("verify-one-way") / "mesh.yaml"
    path.write_text(TOPOLOGY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
        patch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
        code, out = cli(path, "up", "--yes")
        assert code == 0, out
        yield path
        # The probe tasks verify started must not keep the mesh from going away.
        code, out = cli(path, "down", "--yes")
        assert code == 0, out


def cli(path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["-f", str(path), *args, "--workdir", str(path.parent)], catch_exceptions=False
    )
    return result.exit_code, result.stdout


def verify(path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, stdout = cli(path, "--json", "verify", *args)
    return code, json.loads(stdout)


def by_subject(report: dict[str, Any], check: str) -> dict[str, dict[str, Any]]:
    return {c["subject"]["name"]: c for c in report["checks"] if c["check"] == check}


def test_only_the_edge_is_reachable(topology: Path) -> None:
    code, report = verify(topology, "--only", "traffic")
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0, json.dumps(failed, indent=1)
    positive = by_subject(report, "traffic.positive")
    assert set(positive) == {"alpha->beta", "alpha->gamma"}
    for check in positive.values():
        assert check["status"] == "pass", check
        assert check["evidence"]["exit_code"] == 0
    negative = by_subject(report, "traffic.negative")
    assert set(negative) == PROBED_NON_EDGES | UNCONSUMED_NON_EDGES
    for name in PROBED_NON_EDGES:
        check = negative[name]
        assert check["status"] == "pass", (name, check)
        assert check["evidence"]["outcome"] in ("unreachable", "timeout"), check
        assert ".elb." in check["evidence"]["url"]  # aimed at the provider's NLB
    for name in UNCONSUMED_NON_EDGES:
        check = negative[name]
        assert check["status"] == "skipped", (name, check)
        assert check["message"] == (
            "alpha is consumed by no one: it has no NLB or endpoint service to aim at"
        )
    assert report["summary"]["probes"] == len(positive) + len(PROBED_NON_EDGES)


def test_a_reachable_non_edge_fails(topology: Path, local_cloud: LocalCloudInfo) -> None:
    """Open gamma's NLB to beta's tasks (same VPC): beta -> gamma is now reachable."""
    journal = json.loads(
        (topology.parent / ".meshlink" / MESH / "local" / "journal.json").read_text()
    )
    nlb_group = journal["nodes"]["edge:gamma"]["outputs"]["LoadBalancerSecurityGroupId"]
    beta_tasks = journal["nodes"]["edge:beta"]["outputs"]["TaskSecurityGroupId"]
    ec2 = SessionFactory("local", "us-east-1", local_cloud.endpoint_url).client(
        "222222222222", "ec2"
    )
    permission = {
        "IpProtocol": "tcp",
        "FromPort": 8082,
        "ToPort": 8082,
        "UserIdGroupPairs": [{"GroupId": beta_tasks}],
    }
    ec2.authorize_security_group_ingress(GroupId=nlb_group, IpPermissions=[permission])
    try:
        code, report = verify(topology, "--only", "traffic")
        assert code == 1
        failed = {c["subject"]["name"] for c in report["checks"] if c["status"] == "fail"}
        assert failed == {"beta->gamma"}
        check = by_subject(report, "traffic.negative")["beta->gamma"]
        assert check["evidence"]["exit_code"] == 0
        assert "reached" in check["message"]
    finally:
        ec2.revoke_security_group_ingress(GroupId=nlb_group, IpPermissions=[permission])
