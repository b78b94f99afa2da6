"""`meshlink local start --timing aws`: resources take their AWS durations x the scale.

One local cloud for the module under ``--timing aws --time-scale 0.05`` with eventual
consistency off (its own switch; tests/functional/test_local_consistency.py turns it
on). Durations are read from meshlink.durations, so each assertion says "not before
its scaled AWS duration" (with a little slack for the clock) and "eventually".
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshlink import durations
from meshlink.aws.sessions import SessionFactory
from meshlink.cli.app import app
from meshlink.localcloud import daemon
from meshlink.localcloud.clock import Timing
from meshlink.localcloud.dataplane import api
from tests.functional.test_dataplane_support import (
    PORT,
    TINY_SERVER,
    Network,
    admin,
    allow,
    endpoint,
    group,
    network,
    provider,
    wait_for,
    zone_names,
)

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

SCALE = 0.05
SLACK = 0.85  # a state may flip a little before the exact instant we compute from our side
PROVIDER, CONSUMER = "740000000004", "750000000005"
runner = CliRunner()


def scaled(key: str) -> float:
    return durations.seconds(key, SCALE)


class Cloud:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.info = daemon.start(port=0, state_dir=state_dir, timing=Timing("aws", SCALE, False))
        self.sessions = SessionFactory("local", "us-east-1", self.info.endpoint_url)

    def client(self, account: str, service: str) -> Any:
        return self.sessions.client(account, service)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    found = Cloud(tmp_path_factory.mktemp("timed-cloud"))
    try:
        yield found
    finally:
        daemon.stop(found.state_dir)


def local(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["local", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_start_with_timing_and_status_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = str(tmp_path / "state")
    code, out, err = local("start", "--port", "0", "--state-dir", state, "--timing", "slow")
    assert code == 2 and "unknown timing 'slow'" in err
    code, out, err = local("start", "--port", "0", "--state-dir", state, "--time-scale", "0")
    assert code == 2 and "time scale" in err
    code, out, err = local("start", "--port", "0", "--state-dir", state, "--consistency", "maybe")
    assert code == 2 and "must be on or off" in err
    assert not daemon.is_running(state)  # nothing was started
    try:
        code, out, err = local(
            "start", "--port", "0", "--state-dir", state, "--timing", "aws", "--time-scale", "0.02"
        )
        assert code == 0, err
        assert "timing: aws x0.02 (eventual consistency)" in out
        result = runner.invoke(
            app, ["--json", "local", "status", "--state-dir", state], catch_exceptions=False
        )
        assert json.loads(result.stdout)["timing"] == {
            "mode": "aws",
            "scale": 0.02,
            "consistency": True,
        }
        code, out, err = local("status", "--state-dir", state)
        assert "timing: aws x0.02" in out
        # A timing is fixed at start: asking for another one says so (exit 3).
        code, out, err = local("start", "--state-dir", state, "--timing", "instant")
        assert code == 3 and "already runs with timing aws x0.02" in err
    finally:
        daemon.stop(state)
    # The environment sets what the options leave unsaid; it reaches the server process.
    monkeypatch.setenv("MESHLINK_LOCAL_TIMING", "aws")
    monkeypatch.setenv("MESHLINK_LOCAL_TIME_SCALE", "0.5")
    try:
        code, out, err = local("start", "--port", "0", "--state-dir", state, "--consistency", "off")
        assert code == 0, err
        assert "timing: aws x0.5\n" in out
        assert daemon.status(state).to_dict()["timing"] == {
            "mode": "aws",
            "scale": 0.5,
            "consistency": False,
        }
    finally:
        daemon.stop(state)


def _until(what: str, check: Any, timeout: float = 30.0) -> float:
    """Seconds until `check()` holds (polled every 50 ms)."""
    began = time.monotonic()
    wait_for(what, check, timeout=timeout, interval=0.05)
    return time.monotonic() - began


def test_nat_gateway_pending_available_deleting_deleted(cloud: Cloud) -> None:
    ec2 = cloud.client(PROVIDER, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.9.0/24")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    began = time.monotonic()
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]
    nat_id = nat["NatGatewayId"]

    def state() -> str:
        return str(ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"])

    assert nat["State"] == "pending"
    wait_for("NAT available", lambda: state() == "available", interval=0.05)
    assert time.monotonic() - began >= SLACK * scaled("nat_gateway.create")
    ec2.delete_nat_gateway(NatGatewayId=nat_id)
    assert state() == "deleting"
    took = _until("NAT deleted", lambda: state() == "deleted")
    assert took >= SLACK * scaled("nat_gateway.delete") - 0.2


def test_load_balancer_provisioning_then_active(cloud: Cloud) -> None:
    ec2 = cloud.client(PROVIDER, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.41.1.0/24")["Subnet"]["SubnetId"]
    elb = cloud.client(PROVIDER, "elbv2")
    began = time.monotonic()
    lb = elb.create_load_balancer(Name="timed", Subnets=[subnet], Type="network")
    arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    assert lb["LoadBalancers"][0]["State"]["Code"] == "provisioning"

    def code() -> str:
        found = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
        return str(found["State"]["Code"])

    wait_for("NLB active", lambda: code() == "active", interval=0.05)
    assert time.monotonic() - began >= SLACK * scaled("nlb.create")


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.42.0.0/16"}},
        "Subnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.42.1.0/24"},
        },
        "Eip": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
        "Nat": {
            "Type": "AWS::EC2::NatGateway",
            "Properties": {
                "SubnetId": {"Ref": "Subnet"},
                "AllocationId": {"Fn::GetAtt": ["Eip", "AllocationId"]},
            },
        },
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "timed", "VpcId": {"Ref": "Vpc"}},
        },
    },
    "Outputs": {"NatId": {"Value": {"Ref": "Nat"}}},
}


def _events(cfn: Any, stack: str) -> list[tuple[str, str]]:
    raw = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(raw)]


def test_stack_in_progress_for_its_critical_path_with_events_in_order(cloud: Cloud) -> None:
    cfn = cloud.client(PROVIDER, "cloudformation")
    change_set = cfn.create_change_set(
        StackName="timed",
        ChangeSetName="c1",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(TEMPLATE),
    )
    wait_for(
        "change set",
        lambda: (
            cfn.describe_change_set(ChangeSetName=change_set["Id"])["Status"] == "CREATE_COMPLETE"
        ),
    )
    began = time.monotonic()
    cfn.execute_change_set(ChangeSetName=change_set["Id"])

    def status() -> str:
        return str(cfn.describe_stacks(StackName="timed")["Stacks"][0]["StackStatus"])

    assert status() == "CREATE_IN_PROGRESS"
    assert ("Nat", "CREATE_COMPLETE") not in _events(cfn, "timed")
    wait_for("stack created", lambda: status() == "CREATE_COMPLETE", interval=0.05)
    took = time.monotonic() - began
    # Critical path: VPC -> subnet -> NAT gateway (the EIP and the group run beside it).
    path = sum(
        durations.resource_duration(t, "create")
        for t in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::NatGateway")
    )
    assert took >= SLACK * SCALE * path
    events = _events(cfn, "timed")
    order = [e for e in events if e[1] in ("CREATE_IN_PROGRESS", "CREATE_COMPLETE")]
    assert order.index(("Subnet", "CREATE_COMPLETE")) < order.index(("Nat", "CREATE_IN_PROGRESS"))
    assert order.index(("Vpc", "CREATE_COMPLETE")) < order.index(("Subnet", "CREATE_IN_PROGRESS"))
    assert order[-1] == ("timed", "CREATE_COMPLETE")
    # The resource agrees with its stack: the NAT gateway is available once the stack is done.
    nat_id = cfn.describe_stacks(StackName="timed")["Stacks"][0]["Outputs"][0]["OutputValue"]
    nat = cloud.client(PROVIDER, "ec2").describe_nat_gateways(NatGatewayIds=[nat_id])
    assert nat["NatGateways"][0]["State"] == "available"

    began = time.monotonic()
    cfn.delete_stack(StackName="timed")
    assert status() == "DELETE_IN_PROGRESS"  # found by name while it is being deleted
    with pytest.raises(cfn.exceptions.ClientError, match="does not exist"):
        wait_for("stack gone", lambda: status() == "never", timeout=30, interval=0.05)
    assert time.monotonic() - began >= SLACK * scaled("nat_gateway.delete")


def _service_network(cloud: Cloud, account: str, cidr: str) -> Network:
    """Two subnets whose tasks reach the internet through a (timed) NAT gateway."""
    zones = sorted(zone_names(cloud.sessions, account))[:2]
    net = network(cloud.sessions, account, cidr, zones)
    ec2 = cloud.client(account, "ec2")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=net.vpc)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=net.subnets[0], AllocationId=eip)["NatGateway"]
    table = ec2.create_route_table(VpcId=net.vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat["NatGatewayId"]
    )
    for subnet in net.subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)

    def available() -> bool:
        found = ec2.describe_nat_gateways(NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"]
        return bool(found[0]["State"] == "available")

    wait_for("NAT gateway available", available, interval=0.05)
    return net


def _refused(address: str) -> str | None:
    """None when a connection to the address gets an HTTP answer, else why not."""
    try:
        with socket.create_connection((address, PORT), timeout=2) as conn:
            conn.sendall(b"GET /health HTTP/1.0\r\n\r\n")
            answer = conn.recv(64)
    except OSError as error:
        return repr(error)
    return None if answer.startswith(b"HTTP/") else f"answer {answer!r}"


def test_tasks_targets_and_endpoints_serve_only_after_their_durations(cloud: Cloud) -> None:
    s = cloud.sessions
    pnet = _service_network(cloud, PROVIDER, "10.43.0.0/16")
    cnet = network(s, CONSUMER, "10.44.0.0/16", sorted(zone_names(s, CONSUMER))[:2])
    began = time.monotonic()
    prov = provider(s, pnet, "timed", [CONSUMER], label=TINY_SERVER, desired=1)
    allow(s, pnet, "nlb", cidr="10.44.0.0/16")
    ecs = cloud.client(PROVIDER, "ecs")

    def task() -> dict[str, Any] | None:
        arns = ecs.list_tasks(cluster="timed", serviceName="timed")["taskArns"]
        return ecs.describe_tasks(cluster="timed", tasks=arns)["tasks"][0] if arns else None

    wait_for("the service's task", task, interval=0.05)
    first_seen = time.monotonic()
    seen: list[str] = []

    def running() -> bool:
        status = str((task() or {}).get("lastStatus"))
        if not seen or seen[-1] != status:
            seen.append(status)
        return status == "RUNNING"

    wait_for("task RUNNING", running, interval=0.05)
    assert time.monotonic() - began >= SLACK * scaled("fargate_task.running")
    # Fargate's lifecycle, in order: the ENI attaches (PROVISIONING), then the image is
    # pulled (PENDING), then RUNNING; PROVISIONING is seen unless the first look came late.
    assert seen[-2:] == ["PENDING", "RUNNING"], seen
    assert seen == [s for s in ("PROVISIONING", "PENDING", "RUNNING") if s in seen], seen
    if first_seen - began < SLACK * scaled("fargate_task.provisioning"):
        assert seen[0] == "PROVISIONING", seen

    elb = cloud.client(PROVIDER, "elbv2")

    def health() -> list[str]:
        found = elb.describe_target_health(TargetGroupArn=prov.tg_arn)
        return [d["TargetHealth"]["State"] for d in found["TargetHealthDescriptions"]]

    wait_for("target registered", health, interval=0.05)
    registered = time.monotonic()
    assert health() == ["initial"]  # the process answers at once; registration takes longer
    wait_for("target healthy", lambda: health() == ["healthy"], interval=0.05)
    assert time.monotonic() - registered >= SLACK * scaled("nlb_target.healthy") - 0.3

    group(s, cnet, "endpoint")
    allow(s, cnet, "endpoint", cidr="0.0.0.0/0")
    created = time.monotonic()
    made = endpoint(s, cnet, prov.service_name, "endpoint")
    assert made["State"] in ("pending", "pendingAcceptance")
    ec2 = cloud.client(CONSUMER, "ec2")

    def endpoint_state() -> str:
        found = ec2.describe_vpc_endpoints(VpcEndpointIds=[made["VpcEndpointId"]])
        return str(found["VpcEndpoints"][0]["State"])

    assert endpoint_state() == "pending"
    wait_for("endpoint available", lambda: endpoint_state() == "available", interval=0.05)
    available = time.monotonic()
    assert available - created >= SLACK * scaled("interface_endpoint.create")
    address = wait_for(
        "endpoint address",
        lambda: _resolve(cloud, made["DnsEntries"][0]["DnsName"]),
        interval=0.05,
    )
    assert _refused(address) is not None  # just available: no traffic yet
    wait_for("traffic through the endpoint", lambda: _refused(address) is None, interval=0.05)
    assert time.monotonic() - available >= SLACK * scaled(
        "interface_endpoint.traffic_after_available"
    )
    refusals = admin(cloud.info.endpoint_url, "/refusals")
    assert "not serving yet" in json.dumps(refusals)


def _resolve(cloud: Cloud, name: str) -> str | None:
    try:
        return api.resolve(name, state_dir=cloud.state_dir)
    except Exception:
        return None


def test_create_and_update_stack_are_held_too(cloud: Cloud) -> None:
    cfn = cloud.client(CONSUMER, "cloudformation")
    vpc_only = {"Resources": {"Vpc": TEMPLATE["Resources"]["Vpc"]}}
    began = time.monotonic()
    cfn.create_stack(StackName="held", TemplateBody=json.dumps(vpc_only))

    def status() -> str:
        return str(cfn.describe_stacks(StackName="held")["Stacks"][0]["StackStatus"])

    assert status() == "CREATE_IN_PROGRESS"
    wait_for("created", lambda: status() == "CREATE_COMPLETE", interval=0.05)
    assert time.monotonic() - began >= SLACK * scaled("vpc.create")
    began = time.monotonic()
    cfn.update_stack(StackName="held", TemplateBody=json.dumps(TEMPLATE))
    assert status() == "UPDATE_IN_PROGRESS"
    wait_for("updated", lambda: status() == "UPDATE_COMPLETE", interval=0.05)
    # Only what changed is on the path: the VPC stays, subnet -> NAT gateway are added.
    path = scaled("subnet.create") + scaled("nat_gateway.create")
    assert time.monotonic() - began >= SLACK * path
    assert ("Vpc", "UPDATE_IN_PROGRESS") not in _events(cfn, "held")
