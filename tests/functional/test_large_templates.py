"""A consumer of 25 peers: its endpoints template (over 51,200 bytes) deploys through
meshlink's template bucket, verifies, and `down` leaves no bucket (real local cloud).

The same run is the recording that proves the deploy role covers the template bucket
and the CDK network engine (tests/functional/test_bootstrap.py records a Terraform mesh):
everything it calls is in actions.json, and the conditional actions of those two paths
are among its calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import session_name
from meshlink.bootstrap.policy import NEEDS_NO_PERMISSION, load_actions
from meshlink.localcloud import api_log
from meshlink.localcloud.info import LocalCloudInfo
from meshlink.topology.naming import template_bucket_name
from tests.functional.deploy_support import cli, cli_json

# ~80 nodes: up, verify and down take minutes on a loaded two-core machine.
pytestmark = [pytest.mark.localcloud, pytest.mark.slow, pytest.mark.timeout(1200)]

# The fewest peers whose endpoints template crosses 51,200 bytes (~2,080 bytes a peer:
# 24 make 50,439, 25 make 52,518).
PEERS = 25
OPERATOR = "large-templates"
# The conditional actions this run proves: the template bucket's.
RECORDED_HERE = "meshlink.deploy.template_bucket::"
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
    monkeypatch.setenv("MESHLINK_OPERATOR", OPERATOR)
    return tmp_path


def buckets(local_sessions: Any, account: str) -> list[str]:
    return [b["Name"] for b in local_sessions.client(account, "s3").list_buckets()["Buckets"]]


def test_a_consumer_of_25_peers_deploys_through_the_template_bucket(
    workdir: Path, local_sessions: Any, local_cloud: LocalCloudInfo
) -> None:
    path = topology(workdir)
    bucket = template_bucket_name(MESH, HUB, "us-east-1")
    stack = f"meshlink-{MESH}-endpoints-consumer"

    code, summary = cli_json(path, "up", "--yes")
    assert code == 0, {n: o for n, o in summary["nodes"].items() if o["status"] == "failed"}

    cfn = local_sessions.client(HUB, "cloudformation")
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    size = len(json.dumps(body, separators=(",", ":")) if isinstance(body, dict) else body)
    assert size > 51_200, f"{size} bytes: raise PEERS until the template is over the limit"
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

    # The deploy role allows all of it, and this run took the paths it is here to prove.
    record = api_log.fetch(local_cloud.endpoint_url)
    called = api_log.actions_of(record, f"/{session_name(MESH, OPERATOR)}")
    actions = load_actions()
    assert sorted(called - actions.own_actions() - NEEDS_NO_PERMISSION) == []
    # (An implied action, e.g. CreateBucket's s3:PutBucketOwnershipControls, is no request
    # of its own: the local cloud cannot record it.)
    proven_here = {
        entry.action
        for entry in actions.conditional
        if entry.caller.startswith(RECORDED_HERE) and entry.implied is None
    }
    assert "s3:CreateBucket" in proven_here
    assert sorted(proven_here - called) == []
    # The CDK network engine empties each VPC's default group (engines/cdk/network.py).
    assert "ec2:RevokeSecurityGroupEgress" in called
