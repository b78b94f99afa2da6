"""network.mode shared: validation, graph, templates and Terraform inputs (no cloud)."""

from __future__ import annotations

import pytest

from meshlink.engines.terraform.root import module_inputs
from meshlink.errors import TopologyError
from meshlink.graph.planner import plan_graph
from meshlink.localcloud.patches.ram import (
    account_of_principal,
    initial_status,
    organization_only,
)
from meshlink.topology.loader import load_topology_text
from tests.helpers import EXAMPLES
from tests.unit.stacks.stacks_helpers import Mesh, resources

TEXT = """\
name: shared
network:
  mode: shared
  account: {account}
accounts:
  net: {{ id: "333333333333", vpc_cidr: 10.0.0.0/16 }}
  users: {{ id: "111111111111"{users_cidr} }}
services:
  web: {{ account: users, port: 8080 }}
"""


def problems(account: str = "net", users_cidr: str = "") -> list[tuple[str, int, int, str]]:
    with pytest.raises(TopologyError) as caught:
        load_topology_text(TEXT.format(account=account, users_cidr=users_cidr))
    return [(p.message, p.line, p.col, p.hint or "") for p in caught.value.problems]


def test_an_unknown_networking_account_is_located_with_a_suggestion() -> None:
    assert problems(account="nett") == [
        ("network.account names unknown account 'nett'", 4, 12, "did you mean 'net'?")
    ]


def test_a_participant_has_no_vpc_cidr_and_the_owner_needs_one() -> None:
    ((message, line, col, hint),) = problems(users_cidr=", vpc_cidr: 10.1.0.0/16")
    assert message.startswith("account 'users' has a vpc_cidr, but it owns no VPC")
    assert (line, col, hint) == (
        7,
        42,
        "remove vpc_cidr from 'users'; the VPC's CIDR is set on 'net'",
    )
    with pytest.raises(TopologyError) as caught:
        load_topology_text(TEXT.format(account="users", users_cidr=""))
    first, second = caught.value.problems
    assert first.message.startswith("account 'net' has a vpc_cidr, but it owns no VPC")
    assert second.message == "account 'users' has no vpc_cidr, and it is the networking account"


def test_shared_needs_its_account_and_per_account_takes_none() -> None:
    text = TEXT.format(account="net", users_cidr="").replace("  account: net\n", "")
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text)
    assert [p.message for p in caught.value.problems] == [
        "network.mode shared needs network.account: the account that owns the VPC"
    ]
    per_account = TEXT.format(account="net", users_cidr=", vpc_cidr: 10.1.0.0/16").replace(
        "mode: shared", "mode: per_account"
    )
    with pytest.raises(TopologyError) as caught:
        load_topology_text(per_account)
    assert [p.message for p in caught.value.problems] == [
        "network.account names a networking account, but network.mode is per_account "
        "(a VPC in every account)"
    ]


def test_only_the_owner_has_a_network_and_it_creates_the_endpoints() -> None:
    topology = load_topology_text((EXAMPLES / "networking-account.yaml").read_text())
    graph = plan_graph(topology)
    assert [n.id for n in graph if n.kind == "network"] == ["network:network"]
    assert graph.nodes["edge:user-service"].depends_on == ("network:network",)
    endpoints = graph.nodes["endpoints:user-service"]
    assert endpoints.account == "network"
    assert "network:network" in endpoints.depends_on
    assert graph.nodes["platform:users"].depends_on == ("network:network",)
    # Providers allow exactly the networking account: it creates every endpoint.
    assert topology.allowed_principals("user-service") == ["arn:aws:iam::333333333333:root"]


def test_the_owners_network_shares_its_private_subnets_with_the_participants(
    shared: Mesh,
) -> None:
    (share,) = resources(shared.templates["network:net"], "AWS::RAM::ResourceShare").values()
    props = share["Properties"]
    assert props["Name"] == "shared-net-subnets"
    assert props["Principals"] == ["111111111111", "222222222222"]
    arns = props["ResourceArns"]
    assert len(arns) == 2 and all(":subnet/" in str(a) for a in arns)
    assert "network:users" not in shared.templates


def test_the_endpoint_is_the_owners_and_the_tasks_egress_the_participants(shared: Mesh) -> None:
    endpoints = shared.templates["endpoints:user-service"]
    assert shared.stacks["endpoints:user-service"].account == "333333333333"
    assert resources(endpoints, "AWS::EC2::VPCEndpoint")
    assert not resources(endpoints, "AWS::EC2::SecurityGroupEgress")  # not its group
    service = shared.templates["service:user-service"]
    (egress,) = resources(service, "AWS::EC2::SecurityGroupEgress").values()
    assert egress["Properties"]["FromPort"] == 8081
    (permissions,) = resources(
        shared.templates["edge:notification-service"], "AWS::EC2::VPCEndpointServicePermissions"
    ).values()
    assert permissions["Properties"]["AllowedPrincipals"] == ["arn:aws:iam::333333333333:root"]


def test_terraform_shares_only_from_the_owner() -> None:
    topology = load_topology_text((EXAMPLES / "networking-account.yaml").read_text())
    inputs = module_inputs(topology, "network")
    assert inputs["share_subnets_with"] == ["111111111111", "222222222222"]
    assert inputs["share_name"] == "shared-network-subnets"
    two = load_topology_text((EXAMPLES / "two-accounts.yaml").read_text())
    assert "share_subnets_with" not in module_inputs(two, "users")


def test_ram_associates_within_the_organization_and_invites_others() -> None:
    assert initial_status("333333333333", "111111111111", True, sharing=True) == "ASSOCIATED"
    assert initial_status("333333333333", "111111111111", True, sharing=False) == "ASSOCIATING"
    assert initial_status("333333333333", "222222222222", False, sharing=True) == "ASSOCIATING"
    # ...but a subnet only within the organization (vpc-sharing.html): never by invitation.
    assert organization_only("arn:aws:ec2:us-east-1:333333333333:subnet/subnet-0abc")
    assert not organization_only("arn:aws:ec2:us-east-1:333333333333:prefix-list/pl-0abc")
    assert account_of_principal("arn:aws:iam::222222222222:root") == "222222222222"
    assert account_of_principal("arn:aws:organizations::333333333333:organization/o-1") is None


def test_only_the_owner_pays_for_the_vpc_and_the_endpoints() -> None:
    from meshlink.cost.usage import account_usage

    topology = load_topology_text((EXAMPLES / "networking-account.yaml").read_text())
    owner, users = account_usage(topology, "network"), account_usage(topology, "users")
    assert (owner.nat_gateways, len(owner.endpoints), owner.flow_logs) == (1, 3, True)
    assert (users.nat_gateways, users.endpoints, users.flow_logs) == (0, (), False)
    assert users.exposed == ("user-service",)
