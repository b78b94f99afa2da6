"""A consumer of 40 peers: its endpoints template (over 51,200 bytes) deploys through
meshlink's template bucket, verifies, and `down` leaves no bucket (real local cloud)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshlink.localcloud.info import LocalCloudInfo
from meshlink.topology.naming import template_bucket_name
from tests.functional.deploy_support import cli, cli_json

# 127 nodes: up, verify and down take minutes on a loaded two-core machine.
pytestmark = [pytest.mark.localcloud, pytest.mark.slow, pytest.mark.timeout(1200)]

PEERS = 40
HUB, SPOKES = "450000000001", "450000000002"
MESH = "wide"


def topology(directory: Path) -> Path:
    """One consumer of PEERS services in another account, one task each."""
    peers = [f"p{i:02d}" for i in range(PEERS)]
    lines = [
        f"name: {MESH}",
        "region: us-east-1",
        "target: local",
        "network: { engine: cdk, az_count: 2, nat_gateways: single }",
        "accounts:",
        f'  hub: {{ id: "{HUB}", vpc_cidr: 10.51.0.0/16 }}',
        f'  spokes: {{ id: "{SPOKES}", vpc_cidr: 10.52.0.0/16 }}',
        "services:",
        "  consumer:",
        "    account: hub",
        "    port: 8080",
        "    desired_count: 1",
        f"    consumes: [{', '.join(peers)}]",
    ]
    for index, peer in enumerate(peers):
        lines += [f"  {peer}:", "    account: spokes", f"    port: {9000 + index}"]
        lines += ["    desired_count: 1"]
    path = directory / f"{MESH}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture()
def workdir(local_cloud: LocalCloudInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
    return tmp_path


def buckets(local_sessions: Any, account: str) -> list[str]:
    return [b["Name"] for b in local_sessions.client(account, "s3").list_buckets()["Buckets"]]


def test_a_consumer_of_40_peers_deploys_through_the_template_bucket(
    workdir: Path, local_sessions: Any
) -> None:
    path = topology(workdir)
    bucket = template_bucket_name(MESH, HUB, "us-east-1")
    stack = f"meshlink-{MESH}-endpoints-consumer"

    code, summary = cli_json(path, "up", "--yes")
    assert code == 0, {n: o for n, o in summary["nodes"].items() if o["status"] == "failed"}

    cfn = local_sessions.client(HUB, "cloudformation")
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    size = len(json.dumps(body, separators=(",", ":")) if isinstance(body, dict) else body)
    assert size > 51_200, size  # really over the inline limit
    (described,) = cfn.describe_stacks(StackName=stack)["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE"

    # The bucket: in the consumer's account only, private, encrypted, TLS-only, tagged,
    # and empty (each template goes once CloudFormation has read it).
    assert bucket in buckets(local_sessions, HUB)
    assert template_bucket_name(MESH, SPOKES, "us-east-1") not in buckets(local_sessions, SPOKES)
    s3 = local_sessions.client(HUB, "s3")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    blocked = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(blocked.values()) and len(blocked) == 4
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags["meshlink:mesh"] == MESH and tags["meshlink:mesh-id"]

    code, report = cli_json(path, "verify", "--only", "control")
    assert code == 0, report

    code, out, err = cli(path, "down", "--yes")
    assert code == 0, out + err
    assert bucket not in buckets(local_sessions, HUB)
    assert f"removed the template bucket {bucket}" in err
