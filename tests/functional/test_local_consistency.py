"""Eventual consistency under ``--timing aws``, as AWS documents it for EC2 and ECS.

https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html: right after a
create, a describe by id may answer NotFound; a new interface endpoint's connection
reaches the provider's DescribeVpcEndpointConnections only after a delay.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html: a task just
run may be missing from DescribeTasks. One local
cloud for the module at a scale (0.5) that makes those moments long enough to observe.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshlink import durations
from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud import daemon
from meshlink.localcloud.clock import Timing
from tests.functional.test_dataplane_support import network, wait_for, zone_names

pytestmark = [pytest.mark.localcloud]

SCALE = 0.5
PROVIDER, CONSUMER = "760000000006", "770000000007"


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionFactory]:
    state: Path = tmp_path_factory.mktemp("consistent-cloud")
    info = daemon.start(port=0, state_dir=state, timing=Timing("aws", SCALE, True))
    try:
        yield SessionFactory("local", "us-east-1", info.endpoint_url)
    finally:
        daemon.stop(state)


def _code(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


def test_describe_by_id_right_after_create_is_not_found_for_a_moment(
    sessions: SessionFactory,
) -> None:
    ec2 = sessions.client(PROVIDER, "ec2")
    ec2.describe_vpcs()  # a warm client: a create and the describe after it take milliseconds
    lag = durations.seconds("describe.not_found_after_create", SCALE)
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    assert _code(lambda: ec2.describe_vpcs(VpcIds=[vpc])) == "InvalidVpcID.NotFound"
    # A list without ids is not the documented case: it shows the new VPC.
    assert vpc in [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.50.1.0/24")["Subnet"]["SubnetId"]
    assert _code(lambda: ec2.describe_subnets(SubnetIds=[subnet])) == "InvalidSubnetID.NotFound"
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    read_group = lambda: ec2.describe_security_groups(GroupIds=[group])  # noqa: E731
    assert _code(read_group) == "InvalidGroup.NotFound"
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    began = time.monotonic()
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    read_nat = lambda: ec2.describe_nat_gateways(NatGatewayIds=[nat])  # noqa: E731
    assert _code(read_nat) == "NatGatewayNotFound"
    wait_for("the NAT gateway visible", lambda: _code(read_nat) is None, interval=0.05)
    assert time.monotonic() - began >= 0.8 * lag
    for read in (read_group, lambda: ec2.describe_vpcs(VpcIds=[vpc])):
        assert _code(read) is None


def test_new_endpoint_connection_reaches_the_provider_late(sessions: SessionFactory) -> None:
    provider_ec2 = sessions.client(PROVIDER, "ec2")
    zones = sorted(zone_names(sessions, PROVIDER))[:1]
    provider_net = network(sessions, PROVIDER, "10.51.0.0/16", zones)
    consumer_net = network(sessions, CONSUMER, "10.52.0.0/16", zones)
    nlb = sessions.client(PROVIDER, "elbv2").create_load_balancer(
        Name="late", Subnets=provider_net.subnets, Type="network", Scheme="internal"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    service = provider_ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb], AcceptanceRequired=True
    )["ServiceConfiguration"]
    provider_ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=service["ServiceId"], AddAllowedPrincipals=[f"arn:aws:iam::{CONSUMER}:root"]
    )
    consumer_ec2 = sessions.client(CONSUMER, "ec2")
    time.sleep(durations.seconds("describe.not_found_after_create", SCALE))
    began = time.monotonic()
    made = consumer_ec2.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=consumer_net.vpc,
        ServiceName=service["ServiceName"],
        SubnetIds=consumer_net.subnets,
    )["VpcEndpoint"]

    def seen() -> list[str]:
        found = provider_ec2.describe_vpc_endpoint_connections(
            Filters=[{"Name": "service-id", "Values": [service["ServiceId"]]}]
        )["VpcEndpointConnections"]
        return [c["VpcEndpointId"] for c in found]

    assert made["VpcEndpointId"] not in seen()
    wait_for("the connection on the provider's side", lambda: made["VpcEndpointId"] in seen())
    delay = durations.seconds("interface_endpoint.connection_visible", SCALE)
    assert time.monotonic() - began >= 0.8 * delay
    assert made["State"] == "pendingAcceptance"


def test_a_task_just_run_is_missing_from_describe_tasks_for_a_moment(
    sessions: SessionFactory,
) -> None:
    zones = sorted(zone_names(sessions, CONSUMER))[:1]
    net = network(sessions, CONSUMER, "10.53.0.0/16", zones)
    group = sessions.client(CONSUMER, "ec2").create_security_group(
        GroupName="lag", Description="lag", VpcId=net.vpc
    )["GroupId"]
    ecs = sessions.client(CONSUMER, "ecs")
    ecs.create_cluster(clusterName="lag")
    ecs.register_task_definition(
        family="lag",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "meshlink/service", "essential": True}],
    )
    lag = durations.seconds("describe.not_found_after_create", SCALE)
    began = time.monotonic()
    arn = ecs.run_task(
        cluster="lag",
        taskDefinition="lag",
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": net.subnets, "securityGroups": [group]}
        },
    )["tasks"][0]["taskArn"]

    def described() -> dict[str, Any]:
        return dict(ecs.describe_tasks(cluster="lag", tasks=[arn]))

    first = described()
    # ECS answers an unknown task in `failures`, not with an error (API failure reasons).
    assert (first["tasks"], first["failures"]) == ([], [{"arn": arn, "reason": "MISSING"}])
    wait_for("the task visible", lambda: described()["tasks"], interval=0.05)
    assert time.monotonic() - began >= 0.8 * lag
    assert described()["failures"] == []
