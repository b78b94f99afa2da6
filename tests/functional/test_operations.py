"""Operations on the real local cloud: scaling, alarms, alerts, secrets, log retention.

web (account a) consumes api (account b). web reads a secret from Secrets Manager into
DB_PASSWORD (its local command prints only the value's sha256, then runs the bundled
service), scales on CPU and keeps its logs 7 days; api scales on connections per task;
alarms notify an e-mail topic. `verify` checks the scaling and the alarms; the secret's
value appears nowhere but in the task's environment. A secret that does not exist stops
the task with ECS's own ResourceInitializationError, which `up` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json, local_cli

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

MESH = "opsmesh"
WEB_ACCOUNT, API_ACCOUNT = "711111111111", "722222222222"
SECRET_NAME, SECRET_VALUE = "opsmesh/db-password", "s3cr3t-Value-42"
PRINT_HASH = (
    "import hashlib, os, sys; "
    "print('secret sha256', hashlib.sha256(os.environ['DB_PASSWORD'].encode()).hexdigest(), "
    "flush=True); os.execvp(sys.executable, [sys.executable, '-m', 'meshlink_service'])"
)
TOPOLOGY = f"""\
name: {MESH}
network: {{ engine: cdk }}
accounts:
  a: {{ id: "{WEB_ACCOUNT}", vpc_cidr: 10.71.0.0/16 }}
  b: {{ id: "{API_ACCOUNT}", vpc_cidr: 10.72.0.0/16 }}
alerts: {{ email: oncall@example.com }}
dashboard: true
services:
  web:
    account: a
    port: 8080
    desired_count: 1
    consumes: [api]
    secrets: {{ DB_PASSWORD: {SECRET_NAME} }}
    scaling: {{ min: 1, max: 3, cpu_target: 60 }}
    log_retention_days: 7
    local: {{ command: ["python", "-c", {json.dumps(PRINT_HASH)}] }}
  api:
    account: b
    port: 8081
    desired_count: 1
    scaling: {{ min: 1, max: 2, requests_target: 300 }}
    tracing: xray
"""


class Deployed:
    def __init__(self, path: Path, sessions: SessionFactory, first_up: str) -> None:
        self.path, self.sessions, self.first_up = path, sessions, first_up


@pytest.fixture(scope="module")
def deployed(
    local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    """The first `up` runs before the secret exists (and fails); the second after."""
    sessions = SessionFactory("local", "us-east-1", local_cloud.endpoint_url)
    path = tmp_path_factory.mktemp(MESH) / f"{MESH}.yaml"
    path.write_text(TOPOLOGY)
    code, stdout, stderr = cli(path, "up", "--yes")
    assert code == 1, stdout + stderr
    sessions.client(WEB_ACCOUNT, "secretsmanager").create_secret(
        Name=SECRET_NAME, SecretString=SECRET_VALUE
    )
    code, again, again_err = cli(path, "up", "--yes")
    assert code == 0, again + again_err
    yield Deployed(path, sessions, stdout + stderr)
    code, stdout, stderr = cli(path, "down", "--yes")
    assert code == 0, stdout + stderr


def test_a_missing_secret_stops_the_task_as_ecs_does(deployed: Deployed) -> None:
    assert (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution "
        "resource retrieval failed: unable to retrieve secret from asm" in deployed.first_up
    )
    assert "Secrets Manager can't find the specified secret" in deployed.first_up
    assert "service:web" in deployed.first_up


def _checks(report: dict[str, Any], check: str) -> dict[str, dict[str, Any]]:
    return {c["subject"]["name"]: c for c in report["checks"] if c["check"] == check}


def test_verify_checks_scaling_and_alarms(deployed: Deployed) -> None:
    path = deployed.path
    code, report = cli_json(path, "verify")
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0, json.dumps(failed, indent=1)
    scaling = _checks(report, "service.scaling")
    assert set(scaling) == {"web", "api"}
    assert scaling["web"]["evidence"]["registered"] == [{"min": 1, "max": 3}]
    alarms = _checks(report, "service.alarms")
    assert sorted(alarms["api"]["evidence"]["alarms"]) == [
        f"meshlink-{MESH}-api-endpoints-connected",
        f"meshlink-{MESH}-api-no-healthy-targets",
        f"meshlink-{MESH}-api-tasks-below-desired",
    ]
    # The local cloud never evaluates alarms: they keep the state they were created in.
    assert set(alarms["api"]["evidence"]["alarms"].values()) <= {"OK", "INSUFFICIENT_DATA"}
    assert list(alarms["web"]["evidence"]["alarms"]) == [f"meshlink-{MESH}-web-tasks-below-desired"]


def test_what_the_stacks_made_in_the_accounts(deployed: Deployed) -> None:
    sessions = deployed.sessions
    scaling = sessions.client(API_ACCOUNT, "application-autoscaling")
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert target["ResourceId"] == f"service/meshlink-{MESH}/api"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    metrics = policy["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
    assert [m["Id"] for m in metrics["Metrics"]] == ["flows", "tasks", "per_task"]
    logs = sessions.client(WEB_ACCOUNT, "logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix=f"/meshlink/{MESH}/web")["logGroups"]
    assert group["retentionInDays"] == 7
    sns = sessions.client(WEB_ACCOUNT, "sns")
    (subscription,) = sns.list_subscriptions()["Subscriptions"]
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == "oncall@example.com"
    assert subscription["TopicArn"].endswith(f":meshlink-{MESH}-alerts")


def test_one_dashboard_for_the_mesh_with_every_edge_and_service(deployed: Deployed) -> None:
    cloudwatch = deployed.sessions.client(WEB_ACCOUNT, "cloudwatch")
    body = json.loads(cloudwatch.get_dashboard(DashboardName=f"meshlink-{MESH}")["DashboardBody"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert titles[:2] == ["web → api: healthy hosts", "web → api: processed bytes"]
    nlb = body["widgets"][0]["properties"]["metrics"][0][3]
    assert nlb.startswith("net/"), nlb  # the NLB's metric name, from its ARN
    (api_nlb,) = deployed.sessions.client(API_ACCOUNT, "elbv2").describe_load_balancers()[
        "LoadBalancers"
    ]
    assert api_nlb["LoadBalancerArn"].endswith(nlb)


def test_a_traced_service_sends_its_segments_through_the_daemon_sidecar(
    deployed: Deployed,
) -> None:
    """The NLB's health checks are requests too: their segments reach X-Ray."""
    import datetime
    import time

    xray = deployed.sessions.client(API_ACCOUNT, "xray")
    now = datetime.datetime.now(datetime.UTC)
    deadline = time.monotonic() + 60
    names: set[str] = set()
    while time.monotonic() < deadline:
        found = xray.get_trace_summaries(
            StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(hours=1)
        )["TraceSummaries"]
        ids = [t["Id"] for t in found][:5]
        traces = xray.batch_get_traces(TraceIds=ids)["Traces"] if ids else []
        names = {json.loads(s["Document"])["name"] for t in traces for s in t["Segments"]}
        if "api" in names:
            break
        time.sleep(2)
    assert "api" in names, names


def test_the_secret_reaches_the_task_and_nothing_else(
    deployed: Deployed,
) -> None:
    path = deployed.path
    code, logs, _ = local_cli("logs", "web", "-n", "200")
    assert code == 0
    assert f"secret sha256 {hashlib.sha256(SECRET_VALUE.encode()).hexdigest()}" in logs
    assert SECRET_VALUE not in logs
    written = [p for p in path.parent.rglob("*") if p.is_file()]
    assert written
    for file in written:
        assert SECRET_VALUE.encode() not in file.read_bytes(), file
