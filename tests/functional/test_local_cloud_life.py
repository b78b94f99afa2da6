"""The local cloud's life, visible: who starts it, who refuses without it, what its death says.

Every test here has its own local cloud (its own state directory and port), never the
session's: one of them kills it in the middle of `meshlink up`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from meshlink.localcloud import daemon
from meshlink.localcloud.dataplane.api import processes
from tests.functional.deploy_support import cli, local_cli, write_topology

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

NOT_RUNNING = "the local cloud is not running"
MESHLINK = str(Path(sys.executable).parent / "meshlink")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Place:
    """Where a test's own local cloud lives (state directory, port) and its project folder."""

    state_dir: Path
    port: int
    project: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MESHLINK_STATE_DIR": str(self.state_dir),
            "MESHLINK_LOCAL_PORT": str(self.port),
        }


@pytest.fixture()
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Place]:
    """No local cloud running yet; the CLI (in this process or a child) looks only here."""
    spot = Place(tmp_path / "state", free_port(), tmp_path / "project")
    spot.project.mkdir()
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(spot.state_dir))
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", str(spot.port))
    try:
        yield spot
    finally:
        stopped = daemon.stop(spot.state_dir)
        assert stopped is None or not daemon.pid_alive(stopped.pid)


def test_read_only_commands_never_start_the_local_cloud(place: Place) -> None:
    topology = write_topology(place.project, "two-accounts.yaml", "lifero")
    for command in (["plan"], ["status"], ["verify"], ["--json", "status"]):
        code, stdout, stderr = cli(topology, *command)
        assert code == 3, (command, stdout, stderr)
        assert f"error: {NOT_RUNNING}" in stderr, (command, stderr)
        assert "hint: start it with: meshlink local start" in stderr, (command, stderr)
        assert daemon.find(place.state_dir) is None, f"{command} started a local cloud"
    # graph --verify draws the last verify result: no local cloud involved at all.
    code, _, stderr = cli(topology, "graph", "--verify")
    assert code == 2 and "no verify result" in stderr
    assert daemon.find(place.state_dir) is None


def test_up_says_it_starts_the_local_cloud_and_down_leaves_nothing(place: Place) -> None:
    topology = write_topology(place.project, "two-accounts.yaml", "lifeupdown")
    code, stdout, stderr = cli(topology, "up", "--yes")
    assert code == 0, stdout + stderr
    cloud = daemon.find(place.state_dir)
    assert cloud is not None and cloud.port == place.port
    assert (
        f"started the local cloud at http://localhost:{place.port} "
        f"(logs: {place.state_dir / 'localcloud.log'}; stop it with: meshlink local stop)"
    ) in stdout + stderr
    code, stdout, _ = local_cli("status", "--json")
    assert code == 0
    before = json.loads(stdout)["resources"]
    assert before["ecs_clusters"] == 2 and before["ecs_services"] == 2, before
    assert before["ecs_tasks"] >= 2, before
    # Running already: a second up starts nothing and says nothing about it.
    code, stdout, stderr = cli(topology, "up", "--yes")
    assert code == 0 and "started the local cloud" not in stdout + stderr
    code, stdout, stderr = cli(topology, "down", "--yes")
    assert code == 0, stdout + stderr
    # Tasks stop as their services go (a few seconds at most); then nothing is left.
    deadline = time.monotonic() + 20
    while True:
        code, stdout, _ = local_cli("status", "--json")
        assert code == 0
        after = json.loads(stdout)["resources"]
        running = processes(state_dir=place.state_dir)
        if (not after.get("ecs_tasks") and not running) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for kind in ("stacks", "ecs_clusters", "ecs_services", "ecs_tasks", "load_balancers"):
        assert after.get(kind, 0) == 0, (kind, after)
    assert running == [], running  # the data plane's task processes ended too


def test_a_local_cloud_killed_during_up_is_exit_3_with_its_log_and_the_resume_command(
    place: Place,
) -> None:
    topology = write_topology(place.project, "two-accounts.yaml", "lifekill")
    cloud = daemon.start(port=place.port, state_dir=place.state_dir)
    up = subprocess.Popen(
        [MESHLINK, "-f", str(topology), "up", "--yes", "--workdir", str(place.project)],
        env=place.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert up.stdout is not None
        for line in up.stdout:
            output.append(line)
            if " done " in line or line.rstrip().endswith(" done"):
                break  # the first node finished: the run is well under way
        else:
            pytest.fail("up ended before any node finished:\n" + "".join(output))
        os.kill(cloud.pid, signal.SIGKILL)
        started = time.monotonic()
        output.append(up.stdout.read())
        code = up.wait(timeout=300)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    text = "".join(output)
    assert code == 3, text
    assert f"the local cloud at http://localhost:{place.port} stopped answering during up" in text
    assert f"its log: {place.state_dir / 'localcloud.log'}" in text
    assert f"then resume with: meshlink -f {topology} up" in text
    assert "EndpointConnectionError" not in text and "Traceback" not in text, text
    assert time.monotonic() - started < 120, "up took too long to notice"
