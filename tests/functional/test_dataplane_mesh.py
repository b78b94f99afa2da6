"""Issue 7's "done when": real HTTP through tasks, NLBs and interface endpoints on loopback.

One local cloud for the module (its own state dir and port). Provider account: an ECS
service of two tasks running the bundled service (the default command), behind an
NLB + endpoint service. Consumer account: an interface endpoint whose security group
admits only the consumer's task group, and a consumer service (bundled service) whose
PEER_PROVIDER_URL names the endpoint. Third account: a service started from the
``meshlink.local.command`` docker label, with no endpoint. Probes are RunTask tasks.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud import daemon
from meshlink.localcloud.dataplane import api
from tests.functional.test_dataplane_support import (
    CONSUMER,
    PORT,
    PROVIDER,
    THIRD,
    TINY_SERVER,
    Network,
    Provider,
    admin,
    allow,
    endpoint,
    group,
    healthy_targets,
    network,
    provider,
    run_task,
    task_definition,
    wait_for,
    zone_names,
)

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]


class Mesh:
    """Everything the tests share."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.info = daemon.start(port=0, state_dir=state_dir)
        self.url = self.info.endpoint_url
        self.sessions = SessionFactory("local", "us-east-1", self.url)
        s = self.sessions
        zones = sorted(zone_names(s, PROVIDER))[:2]
        self.pnet = network(s, PROVIDER, "10.2.0.0/16", zones)
        self.cnet = network(s, CONSUMER, "10.1.0.0/16", zones)
        self.tnet = network(s, THIRD, "10.3.0.0/16", zones)
        self.provider: Provider = provider(s, self.pnet, "provider", [CONSUMER], label=None)
        # PrivateLink traffic is judged by the NLB's group too (AWS's default): admit the consumer.
        allow(s, self.pnet, "nlb", cidr="10.1.0.0/16")
        consumer_sg = group(s, self.cnet, "consumer")
        group(s, self.cnet, "other")
        group(s, self.cnet, "endpoint")
        allow(s, self.cnet, "endpoint", source_group=consumer_sg)
        self.endpoint = endpoint(s, self.cnet, self.provider.service_name, "endpoint")
        self.dns = self.endpoint["DnsEntries"][0]["DnsName"]
        ecs = s.client(CONSUMER, "ecs")
        ecs.create_cluster(clusterName="consumer")
        self.consumer_probe = task_definition(s, CONSUMER, "probe", port=None)
        consumer_def = task_definition(
            s,
            CONSUMER,
            "consumer",
            env={"SERVICE_NAME": "consumer", "PEER_PROVIDER_URL": f"http://{self.dns}:{PORT}"},
        )
        ecs.create_service(
            cluster="consumer",
            serviceName="consumer",
            taskDefinition=consumer_def,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": self.cnet.subnets,
                    "securityGroups": [consumer_sg],
                }
            },
        )
        third_sg = group(s, self.tnet, "third")
        allow(s, self.tnet, "third", cidr="0.0.0.0/0")
        tecs = s.client(THIRD, "ecs")
        tecs.create_cluster(clusterName="third")
        self.third_probe = task_definition(s, THIRD, "probe", port=None)
        tecs.create_service(
            cluster="third",
            serviceName="third",
            desiredCount=1,
            launchType="FARGATE",
            taskDefinition=task_definition(
                s, THIRD, "third", env={"SERVICE_NAME": "third"}, label=TINY_SERVER
            ),
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": self.tnet.subnets, "securityGroups": [third_sg]}
            },
        )
        wait_for(
            "two healthy provider targets",
            lambda: len(healthy_targets(s, PROVIDER, self.provider.tg_arn)) == 2,
        )
        wait_for(
            "consumer and third tasks running",
            lambda: self.running("consumer", CONSUMER) and self.running("third", THIRD),
        )

    def running(self, cluster: str, account: str) -> list[dict[str, Any]]:
        ecs = self.sessions.client(account, "ecs")
        arns = ecs.list_tasks(cluster=cluster, serviceName=cluster)["taskArns"]
        if not arns:
            return []
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
        return [t for t in tasks if t["lastStatus"] == "RUNNING"]

    def probe(self, net: Network, sg: str, url: str, expect: str = "provider") -> dict[str, Any]:
        account_cluster = {
            CONSUMER: ("consumer", self.consumer_probe),
            THIRD: ("third", self.third_probe),
        }
        cluster, definition = account_cluster[net.account]
        return run_task(
            self.sessions,
            net,
            cluster,
            definition,
            sg,
            ["probe", url, "--expect-service", expect, "--timeout", "3"],
        )

    def address(self, name: str) -> str:
        return str(admin(self.url, f"/dns?name={name}")["address"])


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    state_dir = tmp_path_factory.mktemp("dataplane-mesh")
    built = None
    try:
        built = Mesh(state_dir)
        yield built
    finally:
        pids = [t["pid"] for t in admin(built.url, "/processes")["tasks"]] if built else []
        daemon.stop(state_dir)
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists(), f"task process {pid} outlived the cloud"


def exit_code(task: dict[str, Any]) -> int | None:
    code = task["containers"][0].get("exitCode")
    return None if code is None else int(code)


def test_consumer_task_reaches_provider_through_the_endpoint(mesh: Mesh) -> None:
    task = mesh.probe(mesh.cnet, "consumer", f"http://{mesh.dns}:{PORT}/health")
    assert exit_code(task) == 0, api.read_task_log(
        api.task_logs(task["taskArn"].rsplit("/", 1)[1], state_dir=mesh.state_dir)[0].path
    )
    assert task["stopCode"] == "EssentialContainerExited"


def test_consumer_service_calls_provider_by_its_endpoint_name(mesh: Mesh) -> None:
    consumer = mesh.running("consumer", CONSUMER)[0]
    address = consumer["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    answer = httpx.post(f"http://{address}:{PORT}/call/provider", timeout=10)
    assert answer.status_code == 200, answer.text
    assert '"provider"' in answer.text


def test_addresses_are_visible_through_the_apis(mesh: Mesh) -> None:
    tasks = mesh.running("provider", PROVIDER)
    addresses = {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in tasks}
    assert len(addresses) == 2 and all(a.startswith("127.") for a in addresses)
    assert set(healthy_targets(mesh.sessions, PROVIDER, mesh.provider.tg_arn)) == addresses
    enis = mesh.sessions.client(PROVIDER, "ec2").describe_network_interfaces()
    eni_addresses = {e["PrivateIpAddress"] for e in enis["NetworkInterfaces"]}
    assert addresses <= eni_addresses
    endpoint_eni = mesh.sessions.client(CONSUMER, "ec2").describe_network_interfaces(
        NetworkInterfaceIds=mesh.endpoint["NetworkInterfaceIds"][:1]
    )["NetworkInterfaces"][0]
    assert endpoint_eni["PrivateIpAddress"] == mesh.address(mesh.dns)
    assert api.resolve(mesh.dns, state_dir=mesh.state_dir) == mesh.address(mesh.dns)
    assert mesh.address(mesh.provider.nlb_dns).startswith("127.")
    with pytest.raises(api.NameNotFound):
        api.resolve("nothing.vpce.amazonaws.com", state_dir=mesh.state_dir)


def test_probe_for_the_wrong_service_fails(mesh: Mesh) -> None:
    task = mesh.probe(mesh.cnet, "consumer", f"http://{mesh.dns}:{PORT}/health", expect="nope")
    assert exit_code(task) not in (0, None)
    log = api.task_logs(task["taskArn"].rsplit("/", 1)[1], state_dir=mesh.state_dir)[0]
    assert "wrong-service" in api.read_task_log(log.path)  # it got there: only the name is wrong


def test_third_vpc_reaches_neither_nlb_nor_tasks_nor_endpoint(mesh: Mesh) -> None:
    nlb = mesh.address(mesh.provider.nlb_dns)
    task_ip = healthy_targets(mesh.sessions, PROVIDER, mesh.provider.tg_arn)[0]
    for url in (
        f"http://{mesh.provider.nlb_dns}:{PORT}/health",
        f"http://{nlb}:{PORT}/health",
        f"http://{task_ip}:{PORT}/health",
        f"http://{mesh.dns}:{PORT}/health",
    ):
        before = admin(mesh.url, "/dataplane")["refused_total"]
        task = mesh.probe(mesh.tnet, "third", url)
        assert exit_code(task) not in (0, None), url
        after = admin(mesh.url, "/dataplane")
        assert after["refused_total"] > before, url  # refused by the data plane, not by DNS
        assert "VPCs are isolated" in after["refusals"][-1]


def test_label_command_task_serves_its_own_name(mesh: Mesh) -> None:
    third = mesh.running("third", THIRD)[0]
    address = third["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    answer = httpx.get(f"http://{address}:{PORT}/health", timeout=5)
    assert answer.json() == {"status": "healthy", "service": "third"}


def test_endpoint_group_decides_who_in_the_consumer_vpc_gets_in(mesh: Mesh) -> None:
    url = f"http://{mesh.dns}:{PORT}/health"
    assert exit_code(mesh.probe(mesh.cnet, "other", url)) not in (0, None)
    consumer_sg = mesh.cnet.groups["consumer"]
    allow(mesh.sessions, mesh.cnet, "endpoint", source_group=consumer_sg, revoke=True)
    try:
        assert exit_code(mesh.probe(mesh.cnet, "consumer", url)) not in (0, None)
        assert "no ingress rule" in admin(mesh.url, "/dataplane")["refusals"][-1]
    finally:
        allow(mesh.sessions, mesh.cnet, "endpoint", source_group=consumer_sg)
    assert exit_code(mesh.probe(mesh.cnet, "consumer", url)) == 0


def test_killed_provider_task_is_replaced_and_calls_keep_working(mesh: Mesh) -> None:
    before = mesh.running("provider", PROVIDER)
    victim = before[0]
    pid = next(
        t["pid"]
        for t in admin(mesh.url, "/processes")["tasks"]
        if t["task_arn"] == victim["taskArn"]
    )
    os.kill(pid, signal.SIGKILL)
    endpoint_url = f"http://{mesh.address(mesh.dns)}:{PORT}/health"
    lost = 0
    for _ in range(30):
        try:
            answer = httpx.get(endpoint_url, timeout=5)
        except httpx.TransportError:
            lost += 1
            continue
        assert answer.json()["service"] == "provider"
        time.sleep(0.02)
    # A call can reach the killed task before the NLB takes it out of rotation (on AWS,
    # until its health checks fail); the first failed connection does it here: one at most.
    assert lost <= 1
    ecs = mesh.sessions.client(PROVIDER, "ecs")
    stopped = wait_for(
        "the killed task to be STOPPED",
        lambda: next(
            (
                t
                for t in ecs.describe_tasks(cluster="provider", tasks=[victim["taskArn"]])["tasks"]
                if t["lastStatus"] == "STOPPED"
            ),
            None,
        ),
    )
    assert exit_code(stopped) == 137
    assert stopped["stoppedReason"] == "Essential container in task exited"

    def replaced() -> bool:
        arns = {t["taskArn"] for t in mesh.running("provider", PROVIDER)}
        return len(arns) == 2 and victim["taskArn"] not in arns

    wait_for("a replacement task", replaced)
    wait_for(
        "two healthy targets again",
        lambda: len(healthy_targets(mesh.sessions, PROVIDER, mesh.provider.tg_arn)) == 2,
    )
    service = ecs.describe_services(cluster="provider", services=["provider"])["services"][0]
    assert service["runningCount"] == 2
    assert any("stopped" in e["message"] for e in service["events"])


def test_stop_task_stops_the_process(mesh: Mesh) -> None:
    ecs = mesh.sessions.client(PROVIDER, "ecs")
    victim = mesh.running("provider", PROVIDER)[0]
    pid = next(
        t["pid"]
        for t in admin(mesh.url, "/processes")["tasks"]
        if t["task_arn"] == victim["taskArn"]
    )
    ecs.stop_task(cluster="provider", task=victim["taskArn"], reason="test says stop")
    wait_for(
        "the process to exit",
        lambda: (
            not Path(f"/proc/{pid}").exists()
            or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
        ),
    )
    task = wait_for(
        "STOPPED",
        lambda: next(
            (
                t
                for t in ecs.describe_tasks(cluster="provider", tasks=[victim["taskArn"]])["tasks"]
                if t["containers"][0].get("exitCode") is not None
            ),
            None,
        ),
    )
    assert task["stoppedReason"] == "test says stop"
    wait_for("a replacement task", lambda: len(mesh.running("provider", PROVIDER)) == 2)


def test_scaling_the_service_changes_the_processes(mesh: Mesh) -> None:
    ecs = mesh.sessions.client(PROVIDER, "ecs")
    ecs.update_service(cluster="provider", service="provider", desiredCount=3)
    wait_for(
        "three targets healthy",
        lambda: len(healthy_targets(mesh.sessions, PROVIDER, mesh.provider.tg_arn)) == 3,
    )
    ecs.update_service(cluster="provider", service="provider", desiredCount=2)
    wait_for("two running", lambda: len(mesh.running("provider", PROVIDER)) == 2)
    wait_for(
        "two registered targets",
        lambda: (
            len(
                mesh.sessions.client(PROVIDER, "elbv2").describe_target_health(
                    TargetGroupArn=mesh.provider.tg_arn
                )["TargetHealthDescriptions"]
            )
            == 2
        ),
    )


def test_task_logs_are_files_per_task(mesh: Mesh) -> None:
    logs = api.task_logs("provider", state_dir=mesh.state_dir)
    assert len(logs) >= 2
    assert all(entry.name == "provider" and entry.account == PROVIDER for entry in logs)
    assert "[meshlink]" in api.read_task_log(logs[0].path)
    with httpx.Client() as client:
        text = client.get(f"{mesh.url}/_meshlink/task-logs?service=third&lines=5").text
    assert "==> " in text
