"""EC2's client tokens on the local cloud (localcloud/idempotency.py): a create retried
with its ClientToken returns the first answer and makes nothing more, as AWS documents."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud.info import LocalCloudInfo

pytestmark = [pytest.mark.localcloud]

ACCOUNT = "450000000006"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def ec2(local_cloud: LocalCloudInfo) -> Any:
    return SessionFactory("local", REGION, local_cloud.endpoint_url).client(ACCOUNT, "ec2")


def gateway_endpoint(ec2: Any, route_table: str, token: str) -> dict[str, Any]:
    endpoint: dict[str, Any] = ec2.create_vpc_endpoint(
        VpcEndpointType="Gateway",
        VpcId=ec2.describe_route_tables(RouteTableIds=[route_table])["RouteTables"][0]["VpcId"],
        ServiceName=f"com.amazonaws.{REGION}.s3",
        RouteTableIds=[route_table],
        ClientToken=token,
    )["VpcEndpoint"]
    return endpoint


def test_a_create_retried_with_its_client_token_makes_nothing_more(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in range(2)]
    first = gateway_endpoint(ec2, tables[0], "retry-1")
    again = gateway_endpoint(ec2, tables[0], "retry-1")
    assert again["VpcEndpointId"] == first["VpcEndpointId"]
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert [e["VpcEndpointId"] for e in found["VpcEndpoints"]] == [first["VpcEndpointId"]]

    # The same token with other parameters: EC2's IdempotentParameterMismatch.
    with pytest.raises(ClientError) as raised:
        gateway_endpoint(ec2, tables[1], "retry-1")
    assert raised.value.response["Error"]["Code"] == "IdempotentParameterMismatch"

    # Another token is another request.
    other = gateway_endpoint(ec2, tables[1], "retry-2")
    assert other["VpcEndpointId"] != first["VpcEndpointId"]
