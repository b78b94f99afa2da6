"""A networking account that shares its VPC (network.mode shared), end to end.

examples/networking-account.yaml, deployed once for the module: the networking account
owns the one VPC and shares its private subnets through AWS RAM with the two service
accounts, which run their services, NLBs and endpoint services there; the networking
account creates every interface endpoint. Verify proves every edge and refuses every
non-edge inside the one VPC; a participant cannot create an endpoint (nor modify a
subnet) in the shared VPC, as AWS answers; `down` leaves nothing, the share included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json, write_topology

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

NETWORK, USERS, NOTIFY = "333333333333", "111111111111", "222222222222"


@pytest.fixture(scope="module")
def mesh(local_cloud: LocalCloudInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = write_topology(
        tmp_path_factory.mktemp("shared-network"), "networking-account.yaml", "sharednet"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
        patch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
        code, out, err = cli(path, "up", "--yes")
        assert code == 0, out + err
        yield path
        cli(path, "down", "--yes")  # a no-op once test_down_leaves_nothing ran


@pytest.fixture(scope="module")
def sessions(local_cloud: LocalCloudInfo) -> SessionFactory:
    return SessionFactory("local", "us-east-1", local_cloud.endpoint_url)


def _shared_subnets(sessions: SessionFactory, account: str) -> list[dict[str, Any]]:
    subnets = sessions.client(account, "ec2").describe_subnets()["Subnets"]
    return [s for s in subnets if s["OwnerId"] != account]


def test_every_edge_passes_and_every_non_edge_is_refused(mesh: Path) -> None:
    code, report = cli_json(mesh, "verify")
    assert code == 0, report
    results = report["checks"]
    positive = [r for r in results if r["check"] == "traffic.positive"]
    negative = [r for r in results if r["check"] == "traffic.negative"]
    assert len(positive) == 3 and all(r["status"] == "pass" for r in positive), positive
    assert all(r["status"] != "fail" for r in results), [
        r for r in results if r["status"] == "fail"
    ]
    # In the one VPC only the security groups stand between the services, and they refuse:
    # audit-service reaches neither user-service's NLB nor its tasks, and no one reaches
    # audit-service's tasks (consumed by no one, it has no NLB).
    aimed = {
        (r["subject"]["consumer"], r["subject"]["provider"]): [
            p["via"] for p in r["evidence"]["probed"]
        ]
        for r in negative
    }
    assert aimed == {
        ("audit-service", "user-service"): ["nlb", "tasks"],
        ("user-service", "audit-service"): ["tasks"],
        ("notification-service", "audit-service"): ["tasks"],
    }
    assert all(r["status"] == "pass" for r in negative), negative
    for check in negative:
        outcomes = {p["outcome"] for p in check["evidence"]["probed"]}
        assert outcomes <= {"unreachable", "timeout"}, check


def test_participants_see_the_owners_subnets_and_cannot_create_endpoints_there(
    mesh: Path, sessions: SessionFactory
) -> None:
    del mesh
    for participant in (USERS, NOTIFY):
        shared = _shared_subnets(sessions, participant)
        assert len(shared) == 2 and {s["OwnerId"] for s in shared} == {NETWORK}, shared
    subnet = _shared_subnets(sessions, USERS)[0]
    ec2 = sessions.client(USERS, "ec2")
    with pytest.raises(ClientError) as refused:
        ec2.create_vpc_endpoint(
            VpcEndpointType="Interface",
            VpcId=subnet["VpcId"],
            ServiceName="com.amazonaws.us-east-1.logs",
            SubnetIds=[subnet["SubnetId"]],
        )
    assert refused.value.response["Error"]["Code"] == "UnauthorizedOperation"
    assert refused.value.response["Error"]["Message"] == (
        "This operation does not support shared VPCs."
    )
    with pytest.raises(ClientError) as modify:
        ec2.modify_subnet_attribute(
            SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True}
        )
    assert modify.value.response["Error"]["Code"] == "UnauthorizedOperation"


def test_subnets_are_shared_within_the_organization_only(
    mesh: Path, sessions: SessionFactory
) -> None:
    """The participants have the subnets at once, without an invitation; an account of
    another organization is refused them, as AWS refuses (vpc-sharing.html)."""
    del mesh
    for participant in (USERS, NOTIFY):
        ram = sessions.client(participant, "ram")
        assert ram.get_resource_share_invitations()["resourceShareInvitations"] == []
    ram = sessions.client(NETWORK, "ram")
    (share,) = [
        s
        for s in ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
        if s["status"] == "ACTIVE"
    ]
    principals = ram.get_resource_share_associations(
        associationType="PRINCIPAL", resourceShareArns=[share["resourceShareArn"]]
    )["resourceShareAssociations"]
    assert {(a["associatedEntity"], a["status"]) for a in principals} == {
        (USERS, "ASSOCIATED"),
        (NOTIFY, "ASSOCIATED"),
    }
    outsider = "909090909090"  # the management account of an organization of its own
    sessions.client(outsider, "organizations").create_organization(FeatureSet="ALL")
    with pytest.raises(ClientError) as refused:
        ram.associate_resource_share(
            resourceShareArn=share["resourceShareArn"], principals=[outsider]
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert refused.value.response["Error"]["Message"].startswith(
        "The resource you are attempting to share can only be shared within your AWS Organization."
    )
    assert _shared_subnets(sessions, outsider) == []


def test_status_is_healthy(mesh: Path) -> None:
    code, out, err = cli(mesh, "status")
    assert code == 0, out + err
    assert "3 of 3 endpoints available" in out, out


def test_down_leaves_nothing(mesh: Path, sessions: SessionFactory) -> None:
    code, out, err = cli(mesh, "down", "--yes")
    assert code == 0, out + err
    for account in (NETWORK, USERS, NOTIFY):
        stacks = sessions.client(account, "cloudformation").list_stacks()["StackSummaries"]
        live = [s["StackName"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
        assert not [s for s in live if s.startswith("meshlink-sharednet-")], live
    shares = sessions.client(NETWORK, "ram").get_resource_shares(resourceOwner="SELF")
    assert not [s for s in shares["resourceShares"] if s["status"] == "ACTIVE"], shares
    assert _shared_subnets(sessions, USERS) == []
