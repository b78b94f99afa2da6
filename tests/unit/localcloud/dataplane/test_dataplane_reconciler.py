"""The reconciler in-process against moto's backends (moto's mock, no server)."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SERVER = [
    sys.executable,
    "-c",
    "import http.server,os\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "  def do_GET(self):\n"
    "    self.send_response(200);self.end_headers();self.wfile.write(b'hi')\n"
    "http.server.HTTPServer((os.environ['HOST'],int(os.environ['PORT'])),H).serve_forever()\n",
]


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        import boto3

        yield boto3


@pytest.fixture()
def reconciler(tmp_path: Path, aws: Any) -> Iterator[Any]:
    from meshlink.localcloud.dataplane import patches
    from meshlink.localcloud.dataplane.reconciler import Reconciler

    patches.install()
    subject = Reconciler(tmp_path, threading.RLock(), octet=248)
    patches.set_board(subject.health)
    subject.network.start()
    try:
        yield subject
    finally:
        subject.stop()
        patches.set_board(None)


def converge(reconciler: Any, check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reconciler.reconcile()
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no convergence; errors: {reconciler.errors}")


def nat_egress(ec2: Any, vpc: str, subnet: str) -> None:
    """A NAT route on the VPC's main table: a Fargate task must reach its registry, or the
    local cloud stops it as AWS does (dataplane/task_networking.py)."""
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    main = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)


def test_service_task_runs_and_scales_to_zero(reconciler: Any, aws: Any) -> None:
    ec2, ecs = aws.client("ec2"), aws.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.5.1.0/24")["Subnet"]["SubnetId"]
    nat_egress(ec2, vpc, subnet)
    sg = ec2.create_security_group(GroupName="t", Description="t", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName="c")
    definition = ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "x",
                "portMappings": [{"containerPort": 8080}],
                "dockerLabels": {"meshlink.local.command": json.dumps(SERVER)},
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="c",
        serviceName="web",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}},
    )

    def running() -> list[dict[str, Any]]:
        arns = ecs.list_tasks(cluster="c", serviceName="web")["taskArns"]
        tasks = ecs.describe_tasks(cluster="c", tasks=arns)["tasks"] if arns else []
        return [t for t in tasks if t["lastStatus"] == "RUNNING"]

    task = converge(reconciler, running)[0]
    address = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    assert address.startswith("127.248.")

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://{address}:8080/", timeout=2) as reply:
                return bool(reply.read() == b"hi")
        except OSError:
            return False

    converge(reconciler, answers)
    service = ecs.describe_services(cluster="c", services=["web"])["services"][0]
    assert service["runningCount"] == 1
    ecs.update_service(cluster="c", service="web", desiredCount=0)
    stopped = converge(
        reconciler,
        lambda: next(
            (
                t
                for t in ecs.describe_tasks(cluster="c", tasks=[task["taskArn"]])["tasks"]
                if t["lastStatus"] == "STOPPED"
            ),
            None,
        ),
    )
    assert not running()
    assert stopped["stoppedReason"].startswith("Scaling activity")
    assert stopped["containers"][0]["exitCode"] in (143, 137, 0)


def test_task_that_cannot_start_is_stopped_with_the_reason(reconciler: Any, aws: Any) -> None:
    ec2, ecs = aws.client("ec2"), aws.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.6.1.0/24")["Subnet"]["SubnetId"]
    nat_egress(ec2, vpc, subnet)
    sg = ec2.create_security_group(GroupName="t", Description="t", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName="c")
    definition = ecs.register_task_definition(
        family="bad",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "x"}],
    )["taskDefinition"]["taskDefinitionArn"]
    arn = ecs.run_task(
        cluster="c",
        taskDefinition=definition,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}},
        overrides={"containerOverrides": [{"name": "app", "command": ["/nonexistent/binary"]}]},
    )["tasks"][0]["taskArn"]

    def stopped() -> dict[str, Any] | None:
        found = ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]
        return found if found["lastStatus"] == "STOPPED" else None

    task = converge(reconciler, stopped)
    assert task["stopCode"] == "TaskFailedToStart"
    assert "CannotStartContainerError" in task["stoppedReason"]
    assert "exitCode" not in task["containers"][0]


def test_crashing_service_trips_the_circuit_breaker(reconciler: Any, aws: Any) -> None:
    ec2, ecs = aws.client("ec2"), aws.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    nat_egress(ec2, vpc, subnet)
    sg = ec2.create_security_group(GroupName="t", Description="t", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName="c")
    crash = json.dumps([sys.executable, "-c", "raise SystemExit(3)"])
    definition = ecs.register_task_definition(
        family="crash",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "app", "image": "x", "dockerLabels": {"meshlink.local.command": crash}}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="c",
        serviceName="crash",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}},
    )
    from moto.ecs.models import ecs_backends

    # moto keeps DeploymentConfiguration only through CloudFormation (meshlink's patch).
    moto_service: Any = next(iter(ecs_backends["123456789012"]["us-east-1"].services.values()))
    moto_service.deployment_configuration = {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}
    }

    def failed() -> dict[str, Any] | None:
        found = ecs.describe_services(cluster="c", services=["crash"])["services"][0]
        deployment = found["deployments"][0]
        return deployment if deployment["rolloutState"] == "FAILED" else None

    deployment = converge(reconciler, failed)
    assert deployment["failedTasks"] >= 3
    stopped = ecs.list_tasks(cluster="c", desiredStatus="STOPPED")["taskArns"]
    tasks = ecs.describe_tasks(cluster="c", tasks=stopped)["tasks"]
    assert {t["containers"][0]["exitCode"] for t in tasks} == {3}
    assert {t["stopCode"] for t in tasks} == {"EssentialContainerExited"}


def test_task_started_before_its_endpoint_is_replaced_once_the_name_resolves(
    reconciler: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.ec2.models import ec2_backends

    from meshlink.localcloud.dataplane import reconciler as module

    monkeypatch.setattr(module, "DNS_WAIT", 0.0)
    ec2, ecs, elbv2 = aws.client("ec2"), aws.client("ecs"), aws.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    nat_egress(ec2, vpc, subnet)
    sg = ec2.create_security_group(GroupName="t", Description="t", VpcId=vpc)["GroupId"]
    nlb = elbv2.create_load_balancer(Name="n", Type="network", Subnets=[subnet])
    service_name = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb["LoadBalancers"][0]["LoadBalancerArn"]]
    )["ServiceConfiguration"]["ServiceName"]
    created = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=vpc, ServiceName=service_name, SubnetIds=[subnet]
    )["VpcEndpoint"]
    moto_endpoint = ec2_backends["123456789012"]["us-east-1"].vpc_end_points[
        created["VpcEndpointId"]
    ]
    moto_endpoint.state = "pendingAcceptance"
    # moto's own names are not AWS-shaped; give it one the way meshlink's patch does.
    service_id = service_name.rsplit(".", 1)[1]
    name = f"{created['VpcEndpointId']}-abc.{service_id}.us-east-1.vpce.amazonaws.com"
    moto_endpoint.dns_entries = [{"dns_name": name, "hosted_zone_id": "Z"}]
    ecs.create_cluster(clusterName="c")
    definition = ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "x",
                "environment": [{"name": "PEER_P_URL", "value": f"http://{name}:80"}],
                "dockerLabels": {"meshlink.local.command": json.dumps(SERVER)},
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="c",
        serviceName="web",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}},
    )

    def peer_url() -> str | None:
        for task in reconciler.tasks():
            if task["pid"] and task["service"] == "web" and task["state"] == "running":
                try:
                    environ = Path(f"/proc/{task['pid']}/environ").read_bytes().split(b"\0")
                except OSError:
                    continue  # exited between the listing and the read
                return next(e.decode() for e in environ if e.startswith(b"PEER_P_URL="))
        return None

    assert name in converge(reconciler, peer_url)
    moto_endpoint.state = "available"
    replaced = converge(reconciler, lambda: (url := peer_url()) and name not in url and url)
    assert replaced.startswith("PEER_P_URL=http://127.248.")
    stopped = ecs.list_tasks(cluster="c", desiredStatus="STOPPED")["taskArns"]
    reasons = {t["stoppedReason"] for t in ecs.describe_tasks(cluster="c", tasks=stopped)["tasks"]}
    assert reasons == {"Replaced: the endpoint names in its environment now resolve"}
