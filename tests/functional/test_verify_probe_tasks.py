"""verify's probe tasks on the real local cloud: one per consumer, never a service's.

alpha (account a) consumes beta; beta and gamma (account b) consume each other. Every
traffic check of one consumer comes from one probe task, which runs the account's probe
task definition (platform stack: its own image), in the consumer's subnets with its
security group. `--probe-image` runs a revision with that image for the run only.
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
from meshlink.topology.model import DEFAULT_PROBE_IMAGE

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

MESH = "vfytasks"
TOPOLOGY = f"""\
name: {MESH}
region: us-east-1
target: local
network: {{ engine: cdk, az_count: 2, nat_gateways: single }}
accounts:
  a: {{ id: "111111111111", vpc_cidr: 10.61.0.0/16 }}
  b: {{ id: "222222222222", vpc_cidr: 10.62.0.0/16 }}
services:
  alpha: {{ account: a, port: 8080, desired_count: 1, consumes: [beta] }}
  beta: {{ account: b, port: 8081, desired_count: 1, consumes: [gamma] }}
  gamma: {{ account: b, port: 8082, desired_count: 1, consumes: [beta] }}
"""
ACCOUNT_OF = {"alpha": "111111111111", "beta": "222222222222", "gamma": "222222222222"}
runner = CliRunner()


@pytest.fixture(scope="module")
def topology(
    local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("verify-probe-tasks") / "mesh.yaml"
    path.write_text(TOPOLOGY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
        patch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
        code, out = cli(path, "up", "--yes")
        assert code == 0, out
        yield path
        code, out = cli(path, "down", "--yes")
        assert code == 0, out


@pytest.fixture(scope="module")
def sessions(local_cloud: LocalCloudInfo) -> SessionFactory:
    return SessionFactory("local", "us-east-1", local_cloud.endpoint_url)


def cli(path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["-f", str(path), *args, "--workdir", str(path.parent)], catch_exceptions=False
    )
    return result.exit_code, result.stdout


def verify(path: Path, *args: str) -> dict[str, Any]:
    code, stdout = cli(path, "--json", "verify", "--only", "traffic", *args)
    report: dict[str, Any] = json.loads(stdout)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0, json.dumps(failed, indent=1)
    return report


def tasks_by_consumer(report: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for check in report["checks"]:
        if (
            check["check"] in ("traffic.positive", "traffic.negative")
            and check["status"] != "skipped"
        ):
            found.setdefault(check["subject"]["consumer"], set()).add(check["evidence"]["task_arn"])
    return found


def described(sessions: SessionFactory, consumer: str, arn: str) -> dict[str, Any]:
    ecs = sessions.client(ACCOUNT_OF[consumer], "ecs")
    task = ecs.describe_tasks(cluster=f"meshlink-{MESH}", tasks=[arn])["tasks"][0]
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])
    return {"task": task, "definition": definition["taskDefinition"]}


def test_one_probe_task_per_consumer_from_the_probe_task_definition(
    topology: Path, sessions: SessionFactory
) -> None:
    report = verify(topology)
    checks = {(c["check"], c["subject"]["name"]): c for c in report["checks"]}
    # One negative result per ordered non-edge pair still, each passed.
    negatives = {name for check, name in checks if check == "traffic.negative"}
    assert negatives == {"alpha->gamma", "beta->alpha", "gamma->alpha"}
    assert checks[("traffic.negative", "alpha->gamma")]["status"] == "pass"
    tasks = tasks_by_consumer(report)
    # alpha probes beta (edge) and gamma (non-edge) from one task; beta and gamma
    # each probe the other; nobody probes alpha (consumed by no one: skipped).
    assert {consumer: len(arns) for consumer, arns in tasks.items()} == {
        "alpha": 1,
        "beta": 1,
        "gamma": 1,
    }
    assert report["summary"]["probe_tasks"] == 3
    assert report["summary"]["probes"] == 4  # 3 edges, 1 probed non-edge (2 skipped)
    for consumer, (arn,) in tasks.items():
        found = described(sessions, consumer, arn)
        assert found["definition"]["family"] == f"{MESH}_probe"
        (container,) = found["definition"]["containerDefinitions"]
        # the topology's probe_image (the bundled service here: the local cloud runs it)
        assert (container["name"], container["image"]) == ("probe", DEFAULT_PROBE_IMAGE)
        network = found["task"]["overrides"]["containerOverrides"][0]["command"]
        assert network[0] == "probe-all"


def test_probe_image_runs_a_revision_for_the_run_only(
    topology: Path, sessions: SessionFactory
) -> None:
    image = "registry.example/meshlink-service@sha256:" + "1" * 64
    report = verify(topology, "--probe-image", image)
    tasks = tasks_by_consumer(report)
    for consumer, (arn,) in tasks.items():
        found = described(sessions, consumer, arn)
        assert found["definition"]["containerDefinitions"][0]["image"] == image
        # Deregistered when the run ended: the platform stack's revision stays the one.
        assert found["definition"]["status"] == "INACTIVE"
    ecs = sessions.client(ACCOUNT_OF["alpha"], "ecs")
    active = ecs.list_task_definitions(familyPrefix=f"{MESH}_probe", status="ACTIVE")
    assert len(active["taskDefinitionArns"]) == 1
