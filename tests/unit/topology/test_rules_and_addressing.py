from __future__ import annotations

import ipaddress

import pytest

from meshlink.errors import TopologyError
from meshlink.topology.addressing import largest_vpc_prefix, plan_subnets
from meshlink.topology.loader import load_topology_text
from meshlink.topology.naming import env_var_for_peer, stack_name
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
    assert env_var_for_peer("notification-service") == "PEER_NOTIFICATION_SERVICE_URL"


def test_overlapping_cidrs_in_different_accounts_are_allowed() -> None:
    text = VALID_YAML.replace("10.2.0.0/16", "10.1.0.0/16")
    assert load_topology_text(text).accounts["notify"].vpc_cidr == "10.1.0.0/16"


def test_two_services_of_different_accounts_may_share_a_port() -> None:
    text = VALID_YAML.replace("port: 8081", "port: 8080")
    assert load_topology_text(text).services["notification-service"].port == 8080


def test_aws_target_with_roles_is_valid() -> None:
    text = (
        VALID_YAML.replace(
            "name: shop", "name: shop\ntarget: aws\nprobe_image: r/p@sha256:" + "0" * 64
        )
        .replace("vpc_cidr: 10.1.0.0/16 }", "vpc_cidr: 10.1.0.0/16, role: Deploy }")
        .replace("vpc_cidr: 10.2.0.0/16 }", "vpc_cidr: 10.2.0.0/16, profile: notify }")
        .replace("    port: 8080\n", "    port: 8080\n    image: registry.example/svc:1\n")
        .replace("    port: 8081\n", "    port: 8081\n    image: registry.example/svc:1\n")
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


def problems_of(text: str) -> list[tuple[int, int, str, str | None]]:
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text, "m.yaml")
    return [(p.line, p.col, p.message, p.hint) for p in caught.value.problems]


def test_an_account_id_may_appear_under_one_key_only() -> None:
    text = VALID_YAML.replace('"222222222222"', '"111111111111"').replace(
        "services:", '  billing: { id: "111111111111", vpc_cidr: 10.3.0.0/16 }\nservices:'
    )
    assert [problem[:3] for problem in problems_of(text)] == [
        (5, 17, "account id 111111111111 of 'notify' is already used by 'users'"),
        (6, 18, "account id 111111111111 of 'billing' is already used by 'users'"),
    ]


def test_overlapping_vpcs_of_one_account_still_report_the_overlap_too() -> None:
    text = VALID_YAML.replace(
        '"222222222222", vpc_cidr: 10.2.0.0/16', '"111111111111", vpc_cidr: 10.1.0.0/17'
    )
    messages = [problem[2] for problem in problems_of(text)]
    assert messages == [
        "account id 111111111111 of 'notify' is already used by 'users'",
        "vpc_cidr of 'notify' overlaps 'users' in the same AWS account 111111111111",
    ]


@pytest.mark.parametrize(
    "role", ["arn:aws:iam::999999999999:role/X", "arn:aws-cn:iam::999999999999:role/X"]
)
def test_a_role_arn_of_another_account_is_rejected_at_the_role(role: str) -> None:
    text = VALID_YAML.replace(
        "vpc_cidr: 10.1.0.0/16 }", f'vpc_cidr: 10.1.0.0/16, role: "{role}" }}'
    )
    assert problems_of(text) == [
        (
            4,
            61,
            "role of account 'users' is in another account (999999999999)",
            "use a role ARN of account 111111111111, or just the role name",
        )
    ]


def test_a_role_arn_of_its_own_account_is_valid() -> None:
    role = "arn:aws:iam::111111111111:role/Deploy"
    text = VALID_YAML.replace(
        "vpc_cidr: 10.1.0.0/16 }", f'vpc_cidr: 10.1.0.0/16, role: "{role}" }}'
    )
    assert load_topology_text(text).accounts["users"].role == role


def test_a_principal_arn_of_another_account_is_still_rejected() -> None:
    principal = "arn:aws:iam::333333333333:user/ci"
    text = VALID_YAML.replace(
        "vpc_cidr: 10.2.0.0/16 }", f'vpc_cidr: 10.2.0.0/16, principal: "{principal}" }}'
    )
    assert [problem[2] for problem in problems_of(text)] == [
        "principal of account 'notify' is in another account"
    ]


FARGATE = {  # AWS's Fargate task sizes: cpu units -> memory MiB
    256: [512, 1024, 2048],
    512: [1024, 2048, 3072, 4096],
    1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
}


def sized(cpu: int, memory: int | None) -> str:
    extra = f"    cpu: {cpu}\n" + (f"    memory: {memory}\n" if memory is not None else "")
    return VALID_YAML.replace("    port: 8081\n", "    port: 8081\n" + extra)


@pytest.mark.parametrize(("cpu", "memory"), [(c, m) for c, ms in FARGATE.items() for m in ms])
def test_every_fargate_size_is_valid(cpu: int, memory: int) -> None:
    service = load_topology_text(sized(cpu, memory)).services["notification-service"]
    assert (service.cpu, service.memory) == (cpu, memory)


@pytest.mark.parametrize(
    ("cpu", "memory", "hint"),
    [
        (256, 4096, "with cpu 256, memory is 512, 1024 or 2048"),
        (256, 1000, "with cpu 256, memory is 512, 1024 or 2048"),
        (512, 512, "with cpu 512, memory is 1024, 2048, 3072 or 4096"),
        (1024, 9216, "with cpu 1024, memory is 2048, 3072, 4096, 5120, 6144, 7168 or 8192"),
        (2048, 4500, "with cpu 2048, memory is 4096, 5120, … 16384 (every 1024 from 4096)"),
        (4096, 7168, "with cpu 4096, memory is 8192, 9216, … 30720 (every 1024 from 8192)"),
    ],
)
def test_an_invalid_fargate_size_is_reported_at_memory(cpu: int, memory: int, hint: str) -> None:
    assert problems_of(sized(cpu, memory)) == [
        (
            15,
            13,
            f"service 'notification-service' has memory {memory}, which Fargate does not "
            f"offer with cpu {cpu}",
            hint,
        )
    ]


def test_default_memory_too_small_for_cpu_is_reported_at_cpu() -> None:
    assert [problem[:3] for problem in problems_of(sized(1024, None))] == [
        (
            14,
            10,
            "service 'notification-service' has memory 512 (the default), which Fargate "
            "does not offer with cpu 1024",
        )
    ]
