"""up/down ask (or refuse) before changing a mesh; status and a second down tell the truth.

The real CLI against the real local cloud (tests/unit/cli/test_confirm.py pins the
same prompts down with stand-ins).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

ONE_SERVICE = """\
name: honest
region: us-east-1
target: local
network: { engine: cdk }
accounts:
  solo: { id: "777777777777", vpc_cidr: 10.7.0.0/16 }
services:
  web: { account: solo, port: 8090, desired_count: 1 }
"""


@pytest.fixture()
def topology(local_cloud: LocalCloudInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
    path = tmp_path / "honest.yaml"
    path.write_text(ONE_SERVICE)
    return path


def at_terminal(topology: Path, answer: str, *args: str) -> tuple[int, str]:
    import meshlink.cli.confirm

    saved = meshlink.cli.confirm.stdin_is_terminal
    meshlink.cli.confirm.stdin_is_terminal = lambda: True
    try:
        result = CliRunner().invoke(
            app,
            ["-f", str(topology), *args, "--workdir", str(topology.parent)],
            input=answer + "\n",
            catch_exceptions=False,
        )
    finally:
        meshlink.cli.confirm.stdin_is_terminal = saved
    return result.exit_code, result.stdout


def test_confirmation_status_and_a_second_down(topology: Path, local_sessions: Any) -> None:
    journal = topology.parent / ".meshlink" / "honest" / "local" / "journal.json"
    code, stdout, stderr = cli(topology, "up")
    assert code == 2 and stdout == ""
    assert "stdin is not a terminal" in stderr and "--yes" in stderr
    assert not journal.exists()

    code, stdout = at_terminal(topology, "n", "up")
    assert code == 1
    # accept:web reconciles or is unchanged, depending on what the plan can foresee.
    assert re.search(
        r"^up will: 4 to create, 0 to update, 0 to replace, 0 to delete, [01] unchanged$",
        stdout,
        re.MULTILINE,
    ), stdout
    assert "  create  network:solo" in stdout
    assert "nothing was changed" in stdout
    code, status = cli_json(topology, "status")
    assert code == 0 and status["ok"] is True
    assert status["counts"]["not deployed"] == len(status["nodes"])

    code, summary = cli_json(topology, "up", "--yes")
    assert code == 0, summary
    code, stdout, _ = cli(topology, "status")
    assert code == 0, stdout
    healthy = len(json.loads(journal.read_text())["nodes"])
    assert stdout.splitlines()[-1] == (
        f"status: {healthy} healthy, 0 absent (journal says done), 0 failed"
    )

    # Someone deletes the service stack by hand: the journal still says done.
    cfn = local_sessions.client("777777777777", "cloudformation")
    cfn.delete_stack(StackName="meshlink-honest-service-web")
    cfn.get_waiter("stack_delete_complete").wait(StackName="meshlink-honest-service-web")
    code, stdout, _ = cli(topology, "status")
    assert code == 1
    assert stdout.splitlines()[-1] == (
        f"status: {healthy - 1} healthy, 1 absent (journal says done), 0 failed"
    )
    code, status = cli_json(topology, "status")
    assert code == 1 and status["ok"] is False and status["counts"]["absent"] == 1

    code, stdout = at_terminal(topology, "y", "down")
    assert code == 0, stdout
    assert f"down will delete {healthy - 1} nodes:" in stdout
    assert "meshlink-honest-service-web" not in stdout.split("Delete mesh")[0]
    assert "not deployed" in stdout  # the service stack was gone already

    code, stdout, _ = cli(topology, "down", "--yes")
    assert code == 0
    assert f"nothing to delete ({healthy} nodes not deployed)" in stdout
    assert "done" not in stdout
