"""Two environments of one topology file share accounts and never touch each other.

`up` of the base and `--env staging up` in the same accounts give two meshes (stacks of
their own, state of their own); `--env staging down` removes staging and leaves the base
deployed and verified.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshlink.aws.sessions import SessionFactory
from meshlink.cli.app import app
from meshlink.localcloud.info import LocalCloudInfo

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

ACCOUNT_A, ACCOUNT_B = "611111111111", "622222222222"
TOPOLOGY = f"""\
name: envmesh
mesh_id: "9a0b1c2d3e4f5061"
network: {{ engine: cdk }}
accounts:
  a: {{ id: "{ACCOUNT_A}", vpc_cidr: 10.61.0.0/16 }}
  b: {{ id: "{ACCOUNT_B}", vpc_cidr: 10.62.0.0/16 }}
services:
  web: {{ account: a, port: 8080, desired_count: 1, consumes: [api] }}
  api: {{ account: b, port: 8081, desired_count: 1 }}
environments:
  staging:
    accounts:
      a: {{ vpc_cidr: 10.63.0.0/16 }}
      b: {{ vpc_cidr: 10.64.0.0/16 }}
    services:
      api: {{ port: 9081 }}
"""
runner = CliRunner()


def meshlink(path: Path, *args: str, env: str | None = None) -> tuple[int, str]:
    chosen = ["--env", env] if env else []
    result = runner.invoke(
        app,
        ["-f", str(path), *chosen, *args, "--workdir", str(path.parent)],
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout + result.stderr


def stacks(sessions: SessionFactory, account: str) -> set[str]:
    cloudformation = sessions.client(account, "cloudformation")
    found = cloudformation.describe_stacks()["Stacks"]
    return {s["StackName"] for s in found if s["StackStatus"] != "DELETE_COMPLETE"}


def test_staging_and_the_base_are_separate_meshes_in_the_same_accounts(
    local_cloud: LocalCloudInfo, local_sessions: SessionFactory, tmp_path: Path
) -> None:
    path = tmp_path / "envmesh.yaml"
    path.write_text(TOPOLOGY)

    code, output = meshlink(path, "up", "--yes")
    assert code == 0, output
    code, output = meshlink(path, "up", "--yes", env="staging")
    assert code == 0, output
    assert (tmp_path / ".meshlink" / "envmesh-staging").is_dir()
    names = stacks(local_sessions, ACCOUNT_B)
    assert any(n.startswith("meshlink-envmesh-staging-") for n in names), names
    assert any(n.startswith("meshlink-envmesh-") and "staging" not in n for n in names), names

    code, output = meshlink(path, "--json", "verify", env="staging")
    assert code == 0, output
    assert json.loads(output)["mesh"] == "envmesh-staging"

    code, output = meshlink(path, "down", "--yes", env="staging")
    assert code == 0, output
    left = stacks(local_sessions, ACCOUNT_B)
    assert not any("staging" in n for n in left), left
    code, output = meshlink(path, "--json", "verify")
    assert code == 0, output
    assert json.loads(output)["mesh"] == "envmesh"
