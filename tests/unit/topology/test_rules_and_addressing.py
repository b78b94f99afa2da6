from __future__ import annotations

import ipaddress

import pytest

from meshlink.errors import TopologyError
from meshlink.topology.addressing import largest_vpc_prefix, plan_subnets
from meshlink.topology.loader import load_topology_text
from meshlink.topology.naming import env_var_for_peer, load_balancer_name, stack_name
from tests.helpers import VALID_YAML


@pytest.mark.parametrize("az_count", [1, 2, 3, 4, 5, 6])
def test_subnet_plan_is_disjoint_and_inside_the_vpc(az_count: int) -> None:
    plan = plan_subnets("10.1.0.0/16", az_count)
    subnets = [ipaddress.IPv4Network(c) for c in plan.public + plan.private + plan.isolated]
    assert len(subnets) == 3 * az_count
    vpc = ipaddress.IPv4Network("10.1.0.0/16")
    assert all(s.subnet_of(vpc) for s in subnets)
    for i, first in enumerate(subnets):
        assert not any(first.overlaps(other) for other in subnets[i + 1 :])


def test_smallest_vpc_still_fits_28_bit_subnets() -> None:
    prefix = largest_vpc_prefix(2)
    plan = plan_subnets(f"10.0.0.0/{prefix}", 2)
    assert {ipaddress.IPv4Network(c).prefixlen for c in plan.isolated} == {28}


def test_subnet_plan_matches_terraform_cidrsubnet_order() -> None:
    plan = plan_subnets("10.1.0.0/16", 2)
    assert plan.public == ("10.1.0.0/19", "10.1.32.0/19")
    assert plan.private == ("10.1.64.0/19", "10.1.96.0/19")
    assert plan.isolated == ("10.1.128.0/19", "10.1.160.0/19")


def test_names() -> None:
    assert stack_name("shop", "edge", "user-service") == "meshlink-shop-edge-user-service"
    assert load_balancer_name("shop", "user-service") == "shop-user-service"
    assert env_var_for_peer("notification-service") == "PEER_NOTIFICATION_SERVICE_URL"


def test_overlapping_cidrs_in_different_accounts_are_allowed() -> None:
    text = VALID_YAML.replace("10.2.0.0/16", "10.1.0.0/16")
    assert load_topology_text(text).accounts["notify"].vpc_cidr == "10.1.0.0/16"


def test_two_services_of_different_accounts_may_share_a_port() -> None:
    text = VALID_YAML.replace("port: 8081", "port: 8080")
    assert load_topology_text(text).services["notification-service"].port == 8080


def test_aws_target_with_roles_is_valid() -> None:
    text = (
        VALID_YAML.replace("name: shop", "name: shop\ntarget: aws")
        .replace("vpc_cidr: 10.1.0.0/16 }", "vpc_cidr: 10.1.0.0/16, role: Deploy }")
        .replace("vpc_cidr: 10.2.0.0/16 }", "vpc_cidr: 10.2.0.0/16, profile: notify }")
    )
    topology = load_topology_text(text)
    assert topology.accounts["users"].role == "Deploy"


def test_role_must_be_a_name_or_role_arn() -> None:
    text = VALID_YAML.replace("vpc_cidr: 10.1.0.0/16 }", "vpc_cidr: 10.1.0.0/16, role: 'a b' }")
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text)
    assert "role must be a role name" in caught.value.problems[0].message


def test_consuming_an_external_service_is_an_edge() -> None:
    text = VALID_YAML.replace(
        "services:",
        "external:\n  billing: { service_name: com.amazonaws.vpce.us-east-1.vpce-svc-1, port: 443 }"
        "\nservices:",
    ).replace("consumes: [notification-service]", "consumes: [notification-service, billing]")
    topology = load_topology_text(text)
    assert ("user-service", "billing") in topology.edges()
    assert ("user-service", "billing") not in topology.internal_edges()


def test_names_that_collide_as_cloudformation_ids_are_rejected() -> None:
    text = VALID_YAML.replace(
        "  notification-service:\n",
        "  user-service-2:\n    account: notify\n"
        "    port: 9000\n  user-service2:\n    account: notify\n    port: 9001\n"
        "  notification-service:\n",
    )
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text)
    (problem,) = caught.value.problems
    assert problem.message == (
        "'user-service2' and 'user-service-2' give the same CloudFormation id 'UserService2'"
    )
