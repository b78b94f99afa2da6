"""Identity: every account's caller identity is checked before a run touches anything.

A profile that names no role uses its own credentials; on the local cloud those act in
moto's default account (123456789012), so a wrong account can be staged for real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meshlink.aws.sessions import SessionFactory, operator, session_name
from meshlink.localcloud.info import LocalCloudInfo
from meshlink.topology.loader import load_topology
from tests.functional.deploy_support import cli, write_topology

ELSEWHERE = "123456789012"  # the account the local cloud gives keys it did not issue


@pytest.fixture()
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS credentials file with one profile, 'elsewhere' (static keys)."""
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        "[elsewhere]\naws_access_key_id = AKIAELSEWHERE0000001\n"
        "aws_secret_access_key = not-a-secret\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("MESHLINK_OPERATOR", "ops user")
    return credentials


def _stacks(local_cloud: LocalCloudInfo, account_id: str, mesh: str) -> list[str]:
    client = SessionFactory("local", "us-east-1", local_cloud.endpoint_url).client(
        account_id, "cloudformation"
    )
    names = [s["StackName"] for s in client.describe_stacks()["Stacks"]]
    return [name for name in names if name.startswith(f"meshlink-{mesh}-")]


@pytest.mark.parametrize("action", ["plan", "up", "down", "verify"])
def test_a_profile_in_another_account_stops_every_run_before_it_touches_anything(
    local_cloud: LocalCloudInfo, tmp_path: Path, profiles: Path, action: str
) -> None:
    mesh = f"idm-{action}"
    topology = write_topology(
        tmp_path,
        "two-accounts.yaml",
        mesh,
        **{"vpc_cidr: 10.1.0.0/16 }": "vpc_cidr: 10.1.0.0/16, profile: elsewhere }"},
    )
    args = [action, "--yes"] if action in ("up", "down") else [action]
    code, _stdout, stderr = cli(topology, *args)
    assert code == 3, stderr
    assert (
        f"account 'users': expected 111111111111, but the credentials act in {ELSEWHERE}" in stderr
    )
    assert "nothing was touched" in stderr
    assert "aws sts get-caller-identity" in stderr
    assert _stacks(local_cloud, "111111111111", mesh) == []
    assert _stacks(local_cloud, ELSEWHERE, mesh) == []
    assert _stacks(local_cloud, "222222222222", mesh) == []


def test_principal_role_with_a_profile_assumes_the_role_from_that_profile(
    local_cloud: LocalCloudInfo, tmp_path: Path, profiles: Path
) -> None:
    topology = write_topology(
        tmp_path,
        "two-accounts.yaml",
        "idm-role",
        **{
            "vpc_cidr: 10.1.0.0/16 }": (
                "vpc_cidr: 10.1.0.0/16, profile: elsewhere, principal: role }"
            )
        },
    )
    code, stdout, stderr = cli(topology, "plan")
    assert code == 0, stderr
    assert "create" in stdout

    factory = SessionFactory.for_topology(load_topology(topology), local_cloud.endpoint_url)
    identity = factory.client("111111111111", "sts").get_caller_identity()
    assert identity["Account"] == "111111111111"
    assert identity["Arn"] == (
        "arn:aws:sts::111111111111:assumed-role/MeshlinkDeploy/meshlink-idm-role-ops-user"
    )


def test_session_names_carry_the_mesh_and_the_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHLINK_OPERATOR", "jane.doe@example.com")
    assert operator() == "jane.doe@example.com"
    assert session_name("shop") == "meshlink-shop-jane.doe@example.com"
    assert session_name("shop", "J. Doe/admin") == "meshlink-shop-J.-Doe-admin"
    long = session_name("m" * 60, "someone")
    assert len(long) == 64 and long.startswith("meshlink-mmm")
