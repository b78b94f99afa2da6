"""Edges between two services of one account (one VPC) carry traffic, as on AWS.

The consumer's interface endpoint then sits in the provider's own VPC. Its traffic to the
provider's NLB is still PrivateLink traffic, which the NLB's security group does not
judge (EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic off): before the data plane
knew that, every same-account edge failed its positive probe (`probe unreachable (exit
10)`) while cross-account edges passed. Two meshes on one local cloud:

* `samepair`: two services in one account consuming each other;
* `samering`: four services, two per account, each consuming the next two - same- and
  cross-account edges, and same-account non-edges that must stay unreachable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.localcloud.info import LocalCloudInfo

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

PAIR = """\
name: samepair
region: us-east-1
target: local
network: { engine: cdk, az_count: 2, nat_gateways: single }
accounts:
  a: { id: "111111111111", vpc_cidr: 10.51.0.0/16 }
services:
  s0: { account: a, port: 8080, desired_count: 1, consumes: [s1] }
  s1: { account: a, port: 8081, desired_count: 1, consumes: [s0] }
"""
RING = """\
name: samering
region: us-east-1
target: local
network: { engine: cdk, az_count: 2, nat_gateways: single }
accounts:
  a: { id: "111111111111", vpc_cidr: 10.52.0.0/16 }
  b: { id: "222222222222", vpc_cidr: 10.53.0.0/16 }
services:
  s0: { account: a, port: 8080, desired_count: 1, consumes: [s1, s2] }
  s1: { account: a, port: 8081, desired_count: 1, consumes: [s2, s3] }
  s2: { account: b, port: 8082, desired_count: 1, consumes: [s3, s0] }
  s3: { account: b, port: 8083, desired_count: 1, consumes: [s0, s1] }
"""
runner = CliRunner()


def cli(path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["-f", str(path), *args, "--workdir", str(path.parent)], catch_exceptions=False
    )
    return result.exit_code, result.stdout


def deployed(
    text: str, local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("same-account") / "mesh.yaml"
    path.write_text(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
        patch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
        code, out = cli(path, "up", "--yes")
        assert code == 0, out
        yield path
        code, out = cli(path, "down", "--yes")
        assert code == 0, out


@pytest.fixture(scope="module")
def pair(local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from deployed(PAIR, local_cloud, tmp_path_factory)


@pytest.fixture(scope="module")
def ring(local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from deployed(RING, local_cloud, tmp_path_factory)


def verify(path: Path) -> dict[str, Any]:
    code, stdout = cli(path, "--json", "verify")
    report: dict[str, Any] = json.loads(stdout)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0, json.dumps(failed, indent=1)
    return report


def results(report: dict[str, Any], check: str) -> dict[str, dict[str, Any]]:
    return {c["subject"]["name"]: c for c in report["checks"] if c["check"] == check}


def test_two_services_of_one_account_consuming_each_other(pair: Path) -> None:
    positive = results(verify(pair), "traffic.positive")
    assert set(positive) == {"s0->s1", "s1->s0"}
    for name, check in positive.items():
        provider = name.split("->")[1]
        assert check["status"] == "pass", check
        assert check["evidence"]["exit_code"] == 0
        assert ".vpce.amazonaws.com:" in check["evidence"]["url"]  # through the endpoint
        assert f"answered 200 from service '{provider}'" in check["evidence"]["output"][0]


def test_a_mixed_ring_passes_same_and_cross_account_edges(ring: Path) -> None:
    report = verify(ring)
    positive = results(report, "traffic.positive")
    same_account = {"s0->s1", "s2->s3"}
    assert set(positive) == same_account | {
        "s0->s2",
        "s1->s2",
        "s1->s3",
        "s2->s0",
        "s3->s0",
        "s3->s1",
    }
    assert all(check["status"] == "pass" for check in positive.values())
    # What is not an edge stays unreachable, inside one VPC too: the NLB's security
    # group admits no one but PrivateLink traffic.
    negative = results(report, "traffic.negative")
    assert set(negative) == {"s0->s3", "s1->s0", "s2->s1", "s3->s2"}
    for name, check in negative.items():
        assert check["status"] == "pass", (name, check)
        assert {p["outcome"] for p in check["evidence"]["probed"]} <= {"unreachable", "timeout"}
    # Inside one account's VPC the probe is also aimed at one of the provider's tasks.
    aimed = {name: [p["via"] for p in c["evidence"]["probed"]] for name, c in negative.items()}
    assert aimed == {
        "s1->s0": ["nlb", "tasks"],
        "s3->s2": ["nlb", "tasks"],
        "s0->s3": ["nlb"],
        "s2->s1": ["nlb"],
    }
    assert {e["state"] for e in report["edges"]} == {"pass"}
