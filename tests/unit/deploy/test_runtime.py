"""MeshRuntime and the local cloud's life: who may start it, who says so, who reports it gone.

The real thing runs in tests/functional/test_local_cloud_life.py; these pin the decisions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.deploy.runtime import MeshRuntime, RunOptions
from meshlink.errors import EXIT_ENVIRONMENT
from meshlink.graph.executor import Outcome
from meshlink.localcloud import daemon
from meshlink.localcloud.errors import LocalCloudDown, LocalCloudStopped
from meshlink.localcloud.info import LocalCloudInfo
from tests.unit.verify.fakes import topology

CLOUD = LocalCloudInfo(
    endpoint_url="http://localhost:4999",
    port=4999,
    pid=1,
    state_dir="/state",
    log_file="/state/localcloud.log",
    started_at=0.0,
)


class Daemon:
    """daemon.ensure_running / require_running / is_running with a switchable cloud."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, running: bool) -> None:
        self.running = running
        self.started = 0
        monkeypatch.setattr(daemon, "ensure_running", self.ensure_running)
        monkeypatch.setattr(daemon, "require_running", self.require_running)
        monkeypatch.setattr(daemon, "is_running", lambda *args: self.running)
        monkeypatch.setattr(daemon, "log_path", lambda *args: Path("/state/localcloud.log"))
        # No cloud answers STS here: the identity check is tests/functional/test_identity.py's.
        monkeypatch.setattr("meshlink.aws.identity.check_identities", lambda *args: [])

    def ensure_running(self, *args: Any, on_start: Any = None, **kwargs: Any) -> LocalCloudInfo:
        if not self.running:
            self.running = True
            self.started += 1
            if on_start is not None:
                on_start(CLOUD)
        return CLOUD

    def require_running(self, *args: Any, **kwargs: Any) -> LocalCloudInfo:
        if not self.running:
            raise LocalCloudDown()
        return CLOUD


def runtime(tmp_path: Path, notices: list[str], **options: Any) -> MeshRuntime:
    return MeshRuntime(topology(), RunOptions(workdir=tmp_path, **options), notice=notices.append)


def test_a_read_only_run_never_starts_the_local_cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud = Daemon(monkeypatch, running=False)
    notices: list[str] = []
    with pytest.raises(LocalCloudDown) as error:
        runtime(tmp_path, notices, read_only=True).connect()
    assert cloud.started == 0 and notices == []
    assert error.value.exit_code == EXIT_ENVIRONMENT
    assert error.value.message == "the local cloud is not running"
    assert error.value.hint == "start it with: meshlink local start"


def test_a_read_only_run_uses_a_running_local_cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Daemon(monkeypatch, running=True)
    mesh = runtime(tmp_path, [], read_only=True)
    mesh.connect()
    assert mesh.endpoint_url == CLOUD.endpoint_url


def test_up_says_when_it_starts_the_local_cloud_and_only_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud = Daemon(monkeypatch, running=False)
    notices: list[str] = []
    runtime(tmp_path, notices).connect()
    assert cloud.started == 1
    assert notices == [
        "started the local cloud at http://localhost:4999 (logs: /state/localcloud.log; "
        "stop it with: meshlink local stop)"
    ]
    again: list[str] = []
    runtime(tmp_path, again).connect()
    assert cloud.started == 1 and again == []


def failed_run() -> dict[str, Outcome]:
    return {
        "network:a": Outcome("done"),
        "platform:a": Outcome("failed", "the local cloud at http://localhost:4999 stopped"),
        "edge:alpha": Outcome("skipped", "not started: platform:a failed"),
    }


def test_a_run_cut_short_by_the_local_cloud_is_one_environment_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud = Daemon(monkeypatch, running=True)
    mesh = runtime(tmp_path, [], topology_file=tmp_path / "mesh.yaml")
    mesh.connect()
    cloud.running = False
    with pytest.raises(LocalCloudStopped) as error:
        mesh.check_local_cloud("up", failed_run())
    assert error.value.exit_code == EXIT_ENVIRONMENT
    assert (
        error.value.message
        == "the local cloud at http://localhost:4999 stopped answering during up"
    )
    assert error.value.hint == (
        "its log: /state/localcloud.log\n"
        "start it with: meshlink local start\n"
        f"then resume with: meshlink -f {tmp_path}/mesh.yaml up"
    )


def test_failures_with_the_local_cloud_alive_are_the_nodes_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Daemon(monkeypatch, running=True)
    mesh = runtime(tmp_path, [])
    mesh.check_local_cloud("up", failed_run())  # no error: RunFailed is the CLI's to raise
    mesh.check_local_cloud("up", {"network:a": Outcome("done")})


def test_the_resume_command_keeps_a_workdir_away_from_the_file(tmp_path: Path) -> None:
    elsewhere = tmp_path / "state dir"
    options = RunOptions(workdir=elsewhere, topology_file=tmp_path / "mesh.yaml")
    mesh = MeshRuntime(topology(), options)
    assert mesh.resume_command("down") == (
        f"meshlink -f {tmp_path}/mesh.yaml down --workdir '{elsewhere}'"
    )
    assert MeshRuntime(topology(), RunOptions(workdir=tmp_path)).resume_command("up") == (
        "meshlink up"
    )
