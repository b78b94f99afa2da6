"""Stopping the local cloud stops every process it started; killing it does too.

Each test starts its own local cloud (its own port and state dir) with a service of two
tasks (docker-label command) and a one-off task whose shell leaves a grandchild.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud import daemon
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.test_dataplane_support import (
    PROVIDER,
    TINY_SERVER,
    admin,
    group,
    network,
    task_definition,
    wait_for,
    zone_names,
)

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]


def _group_pids(pgids: set[int]) -> set[int]:
    """Every live (non-zombie) process in one of `pgids`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[2]) in pgids and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _start_tasks(state_dir: Path) -> tuple[LocalCloudInfo, set[int]]:
    """A local cloud running 2 service tasks + 1 one-off; returns it and the task pgids."""
    info = daemon.start(port=0, state_dir=state_dir)
    try:
        return info, _deploy(info, state_dir)
    except BaseException:
        daemon.stop(state_dir)  # a failed setup must not leak a cloud and its tasks
        raise


def _deploy(info: LocalCloudInfo, state_dir: Path) -> set[int]:
    sessions = SessionFactory("local", "us-east-1", info.endpoint_url)
    net = network(sessions, PROVIDER, "10.9.0.0/16", sorted(zone_names(sessions, PROVIDER))[:2])
    sg = group(sessions, net, "task")
    ecs = sessions.client(PROVIDER, "ecs")
    ecs.create_cluster(clusterName="life")
    vpc = {"awsvpcConfiguration": {"subnets": net.subnets, "securityGroups": [sg]}}
    ecs.create_service(
        cluster="life",
        serviceName="web",
        desiredCount=2,
        launchType="FARGATE",
        taskDefinition=task_definition(
            sessions, PROVIDER, "web", label=TINY_SERVER, env={"SERVICE_NAME": "web"}
        ),
        networkConfiguration=vpc,
    )
    ecs.run_task(
        cluster="life",
        taskDefinition=task_definition(sessions, PROVIDER, "sleeper", port=None),
        launchType="FARGATE",
        networkConfiguration=vpc,
        overrides={
            "containerOverrides": [
                {"name": "app", "command": ["/bin/sh", "-c", "sleep 600 & sleep 600"]}
            ]
        },
    )

    def started() -> list[dict[str, Any]] | None:
        tasks = [t for t in admin(info.endpoint_url, "/processes")["tasks"] if t["pid"]]
        return tasks if len(tasks) == 3 else None

    tasks = wait_for("three task processes", started)
    pgids = {int(t["pid"]) for t in tasks}  # each task leads its own process group
    try:
        wait_for("the grandchild sleep", lambda: len(_group_pids(pgids)) >= 4)
    except AssertionError as error:
        logs = {p.name: p.read_text()[-500:] for p in (state_dir / "dataplane").rglob("*.log")}
        raise AssertionError(
            f"{error}; tasks {tasks}; now {_group_pids(pgids)}; "
            f"{admin(info.endpoint_url, '/processes')}; logs {logs}"
        ) from None
    return pgids


def test_stop_leaves_no_task_process(tmp_path: Path) -> None:
    info, pgids = _start_tasks(tmp_path)
    try:
        assert len(_group_pids(pgids)) >= 4
    finally:
        daemon.stop(tmp_path)
    assert not daemon.pid_alive(info.pid)
    assert _group_pids(pgids) == set()
    # Stopped gracefully: SIGTERM (143), not the parent-death SIGKILL (137).
    logs = list((tmp_path / "dataplane" / "logs").glob("*/life/web/*.log"))
    assert len(logs) == 2
    assert all("exited with code 143 (SIGTERM)" in log.read_text() for log in logs)


def test_killed_local_cloud_leaves_nothing_after_the_next_start(tmp_path: Path) -> None:
    info, pgids = _start_tasks(tmp_path)
    os.kill(info.pid, signal.SIGKILL)
    wait_for("the local cloud to die", lambda: not daemon.pid_alive(info.pid))
    # Direct task processes die with their parent (PR_SET_PDEATHSIG) ...
    time.sleep(0.5)
    leftovers = _group_pids(pgids)
    assert leftovers and not leftovers & pgids  # the sleeps outlived their shell
    # ... and what they left (the shell's background sleep) goes at the next start.
    try:
        daemon.start(port=0, state_dir=tmp_path)
        wait_for("leftovers killed", lambda: _group_pids(pgids) == set(), timeout=10)
    finally:
        daemon.stop(tmp_path)
