"""The line items of both examples, against figures worked out by hand (us-east-1 prices
of prices.json: NAT $0.045/h and /GB, IPv4 $0.005/h, NLB $0.0225/h, NLCU $0.006/h,
interface endpoint $0.01/AZ-h and /GB, Fargate $0.04048/vCPU-h and $0.004445/GB-h,
CloudWatch Logs $0.50/GB; 730 hours a month)."""

from __future__ import annotations

import pytest

from meshlink.cost.estimate import Assumptions, estimate
from meshlink.cost.prices import price_book
from meshlink.topology.loader import load_topology, load_topology_text
from tests.helpers import EXAMPLES

H = 730


def items_of(est, account):  # type: ignore[no-untyped-def]
    return {
        i.kind: (i.quantity, i.unit, i.unit_usd, i.monthly_usd)
        for i in est.items
        if i.account == account
    }


def test_two_accounts_by_hand() -> None:
    est = estimate(load_topology(EXAMPLES / "two-accounts.yaml"), Assumptions(traffic_gb=50))
    # Each account: nat_gateways single, 2 AZs, one service (2 tasks of 256 CPU / 512 MiB)
    # consumed by the other account's service, which it consumes in turn.
    expected = {
        "nat_gateway": (1 * H, "hour", 0.045, 730 * 0.045),  # 32.85
        "nat_gateway_data": (50, "GB", 0.045, 50 * 0.045),  # 2.25
        "public_ipv4": (1 * H, "hour", 0.005, 730 * 0.005),  # 3.65 (the NAT's EIP)
        "nlb": (1 * H, "hour", 0.0225, 730 * 0.0225),  # 16.425
        "nlb_capacity": (50, "NLCU-hour", 0.006, 50 * 0.006),  # 0.30: 1 consumer x 50 GB
        "interface_endpoint": (2 * H, "AZ-hour", 0.01, 1460 * 0.01),  # 1,460 AZ-hours: 14.60
        "interface_endpoint_data": (50, "GB", 0.01, 50 * 0.01),  # 0.50
        "fargate_vcpu": (2 * 0.25 * H, "vCPU-hour", 0.04048, 365 * 0.04048),  # 14.7752
        "fargate_memory": (2 * 0.5 * H, "GB-hour", 0.004445, 730 * 0.004445),  # 3.24485
        "logs_ingestion": (2 * 1.0, "GB", 0.5, 2 * 0.5),  # 1.00: 1 GB per task
        "flow_logs_ingestion": (1.0, "GB", 0.5, 0.5),  # flow logs on
    }
    for account in ("users", "notify"):
        got = items_of(est, account)
        assert set(got) == set(expected)
        for kind, (quantity, unit, unit_usd, monthly) in expected.items():
            assert got[kind][:3] == (pytest.approx(quantity), unit, unit_usd), kind
            assert got[kind][3] == pytest.approx(monthly), kind
    per_account = 32.85 + 2.25 + 3.65 + 16.425 + 0.30 + 14.60 + 0.50 + 14.7752 + 3.24485 + 1.0 + 0.5
    assert per_account == pytest.approx(90.09505)
    assert est.by_account() == {
        "users": pytest.approx(per_account),
        "notify": pytest.approx(per_account),
    }
    assert est.monthly_usd == pytest.approx(2 * per_account)  # 180.1901
    assert est.hourly_usd == pytest.approx(2 * per_account / 730)
    data = est.to_dict()
    assert data["monthly_usd"] == 180.19
    item = next(i for i in data["items"] if i["kind"] == "interface_endpoint")
    assert item == {
        "account": "users",
        "kind": "interface_endpoint",
        "quantity": 1460,
        "unit": "AZ-hour",
        "unit_usd": 0.01,
        "monthly_usd": 14.6,
        "detail": "1 endpoint(s) to mesh peers x 2 AZs",
    }
    assert data["monthly_usd_range"] == [180.19, 180.19]  # no scaling: the count is fixed
    assert data["accounts_hourly_usd"] == {"users": 0.1234, "notify": 0.1234}  # 90.09505 / 730
    vcpu = next(i for i in est.items if i.kind == "fargate_vcpu")
    assert vcpu.detail == "2 task(s) at desired_count, 0.5 vCPU in all"
    assert "monthly_usd_range" not in vcpu.to_dict()


def test_full_mesh_4_by_hand() -> None:
    est = estimate(load_topology(EXAMPLES / "full-mesh-4.yaml"))  # default 10 GB
    # Each of 4 accounts: no NAT (so ecr.api, ecr.dkr and logs interface endpoints, s3 a
    # free gateway), one service of 1 task consumed by the 3 others, consuming 3 others.
    expected = {
        "nlb": (H, 730 * 0.0225),  # 16.425
        "nlb_capacity": (3 * 10, 30 * 0.006),  # 3 consumers x 10 GB: 0.18
        "interface_endpoint": (3 * 2 * H, 4380 * 0.01),  # 4,380 AZ-hours: 43.80
        "interface_endpoint_data": (3 * 10, 30 * 0.01),  # 0.30
        "aws_service_endpoint": (3 * 2 * H, 4380 * 0.01),  # ecr.api, ecr.dkr, logs: 43.80
        "aws_service_endpoint_data": (10, 10 * 0.01),  # 0.10
        "fargate_vcpu": (0.25 * H, 182.5 * 0.04048),  # 7.3876
        "fargate_memory": (0.5 * H, 365 * 0.004445),  # 1.622425
        "logs_ingestion": (1.0, 0.5),
        "flow_logs_ingestion": (1.0, 0.5),
    }
    for account in ("orders", "payments", "shipping", "inventory"):
        got = items_of(est, account)
        assert set(got) == set(expected), account  # no NAT items at all
        for kind, (quantity, monthly) in expected.items():
            assert got[kind][0] == pytest.approx(quantity), kind
            assert got[kind][3] == pytest.approx(monthly), kind
    per_account = 16.425 + 0.18 + 43.80 + 0.30 + 43.80 + 0.10 + 7.3876 + 1.622425 + 0.5 + 0.5
    assert est.monthly_usd == pytest.approx(4 * per_account)  # 4 x 114.615025 = 458.4601


def test_edge_cost_is_its_endpoint_and_its_share_of_the_nlb() -> None:
    est = estimate(load_topology(EXAMPLES / "full-mesh-4.yaml"))
    edge = est.edge("orders", "payments")
    assert edge is not None
    # endpoint 2 AZs x 730 h x $0.01 = 14.60; data 10 GB x $0.01 = 0.10;
    # payments' NLB 730 x $0.0225 / 3 consumers = 5.475; capacity 10 NLCU-h x $0.006 = 0.06
    assert edge.monthly_usd == pytest.approx(14.60 + 0.10 + 5.475 + 0.06)
    assert "1/3" in edge.detail


def test_breakeven_of_nat_against_endpoints() -> None:
    est = estimate(load_topology(EXAMPLES / "two-accounts.yaml"), Assumptions(traffic_gb=500))
    assert est.breakeven is not None
    # NAT: 730 x (0.045 + 0.005) = 36.50 + 0.045/GB; endpoints: 3 x 2 AZs x 730 x 0.01
    # = 43.80 + 0.01/GB; equal at (43.80 - 36.50) / (0.045 - 0.01) = 208.57 GB.
    assert est.breakeven.gb == pytest.approx(7.30 / 0.035)
    sentence = est.breakeven.sentence()
    assert "break-even at 209 GB a month per account" in sentence
    # at 500 GB: NAT 36.50 + 22.50 = 59.00, endpoints 43.80 + 5.00 = 48.80
    assert sentence.endswith("at 500 GB: NAT $59.00, endpoints $48.80")


def test_per_az_nat_costs_more_than_endpoints_at_any_traffic() -> None:
    text = (
        (EXAMPLES / "two-accounts.yaml")
        .read_text()
        .replace("nat_gateways: single", "nat_gateways: per_az")
    )
    est = estimate(load_topology_text(text))
    assert [i.quantity for i in est.items if i.kind == "nat_gateway"] == [2 * H, 2 * H]
    assert est.breakeven is not None and est.breakeven.gb is None  # 73.00 > 43.80
    assert "the endpoints cost less at any traffic" in est.breakeven.sentence()


def test_unknown_region_is_a_no_price_line() -> None:
    text = (
        (EXAMPLES / "two-accounts.yaml")
        .read_text()
        .replace("region: us-east-1", "region: sa-east-1")
    )
    est = estimate(load_topology_text(text))
    assert not est.priced and est.items == [] and est.monthly_usd == 0
    assert est.no_price().startswith("no price for sa-east-1: prices.json covers ")
    assert est.to_dict() == {
        "region": "sa-east-1",
        "priced": False,
        "message": est.no_price(),
        "monthly_usd": None,
        "hourly_usd": None,
        "items": [],
    }


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_the_three_regions_are_priced(region: str) -> None:
    prices = price_book().for_region(region)
    assert prices is not None
    assert all(
        p.source.startswith("https://aws.amazon.com/") and p.taken for p in prices.prices.values()
    )


def test_prices_follow_the_region() -> None:
    text = (EXAMPLES / "two-accounts.yaml").read_text()
    est = estimate(load_topology_text(text.replace("region: us-east-1", "region: ap-southeast-2")))
    nat = next(i for i in est.items if i.kind == "nat_gateway")
    endpoint = next(i for i in est.items if i.kind == "interface_endpoint")
    # ap-southeast-2: NAT $0.059/h -> 730 x 0.059 = 43.07; endpoint $0.013/AZ-h -> 1,460 x
    # 0.013 = 18.98
    assert (nat.unit_usd, nat.monthly_usd) == (0.059, pytest.approx(43.07))
    assert (endpoint.unit_usd, endpoint.monthly_usd) == (0.013, pytest.approx(18.98))
    assert est.to_dict()["region"] == "ap-southeast-2"


def scaled(desired: int, low: int, high: int) -> str:
    """two-accounts.yaml with user-service scaling between `low` and `high` tasks."""
    return (
        (EXAMPLES / "two-accounts.yaml")
        .read_text()
        .replace(
            "    desired_count: 2\n    consumes: [notification-service]",
            f"    desired_count: {desired}\n"
            f"    scaling: {{min: {low}, max: {high}, cpu_target: 60}}\n"
            "    consumes: [notification-service]",
        )
    )


def test_a_scaling_service_is_costed_at_desired_count_with_its_range() -> None:
    est = estimate(load_topology_text(scaled(2, 1, 4)))
    users = {i.kind: i for i in est.items if i.account == "users"}
    vcpu, memory, logs = users["fargate_vcpu"], users["fargate_memory"], users["logs_ingestion"]
    # desired_count 2 x 0.25 vCPU x 730 h = 365 vCPU-h; 1 task: 7.3876, 4 tasks: 29.5504
    assert vcpu.quantity == pytest.approx(365)
    assert vcpu.monthly_usd_range == (pytest.approx(7.3876), pytest.approx(29.5504))
    assert vcpu.detail == (
        "2 task(s) at desired_count, 0.5 vCPU in all; auto scaling: $7.39 to $29.55"
    )
    # 0.5 GB x 730 h x 0.004445 = 1.622425 a task
    assert memory.monthly_usd_range == (pytest.approx(1.622425), pytest.approx(6.4897))
    assert logs.monthly_usd_range == (pytest.approx(0.5), pytest.approx(2.0))  # 1 GB a task
    assert users["nlb"].monthly_usd_range is None  # the NLB does not scale
    # notify has no scaling: its items carry no range
    assert all(i.monthly_usd_range is None for i in est.items if i.account == "notify")
    low, high = est.monthly_usd_range
    per_task = 7.3876 + 1.622425 + 0.5
    assert (low, high) == (
        pytest.approx(est.monthly_usd - per_task),
        pytest.approx(est.monthly_usd + 2 * per_task),
    )
    item = next(i for i in est.to_dict()["items"] if i["kind"] == "fargate_vcpu")
    assert item["monthly_usd_range"] == [7.3876, 29.5504]


def test_a_service_that_may_scale_up_from_zero_keeps_its_fargate_items() -> None:
    est = estimate(load_topology_text(scaled(0, 0, 3)))
    vcpu = next(i for i in est.items if i.account == "users" and i.kind == "fargate_vcpu")
    assert (vcpu.quantity, vcpu.monthly_usd) == (0, 0)
    assert vcpu.monthly_usd_range == (0, pytest.approx(3 * 7.3876))


def with_endpoints(services: str) -> str:
    """two-accounts.yaml (one NAT) with network.aws_service_endpoints: [services]."""
    return (
        (EXAMPLES / "two-accounts.yaml")
        .read_text()
        .replace(
            "  nat_gateways: single\n",
            f"  nat_gateways: single\n  aws_service_endpoints: [{services}]\n",
        )
    )


def test_sts_alone_leaves_the_aws_traffic_on_the_nat() -> None:
    est = estimate(load_topology_text(with_endpoints("sts")))
    users = {i.kind: i for i in est.items if i.account == "users"}
    # Image pulls and logs still go through the NAT: 10 GB x 0.045 = 0.45; the sts
    # endpoint costs its AZ-hours (1 x 2 AZs x 730 = 1,460 x 0.01 = 14.60), not the GB.
    assert users["nat_gateway_data"].quantity == 10
    assert users["nat_gateway_data"].monthly_usd == pytest.approx(0.45)
    assert users["aws_service_endpoint"].quantity == 2 * H
    assert "aws_service_endpoint_data" not in users
    # What would replace the NAT: ecr.api, ecr.dkr, logs, and the sts it asks for:
    # 4 x 2 AZs x 730 h x 0.01 = 58.40 a month.
    assert est.breakeven is not None
    assert est.breakeven.services == ("ecr.api", "ecr.dkr", "logs", "sts")
    assert est.breakeven.endpoints_fixed_usd == pytest.approx(58.40)


def test_endpoints_covering_fargate_carry_the_aws_traffic_beside_a_nat() -> None:
    est = estimate(load_topology_text(with_endpoints("ecr.api, ecr.dkr, logs, s3")))
    users = {i.kind: i for i in est.items if i.account == "users"}
    assert "nat_gateway_data" not in users  # the NAT is there, its GB go to the endpoints
    assert users["nat_gateway"].quantity == H
    assert users["aws_service_endpoint"].quantity == 3 * 2 * H  # s3 is a free gateway
    assert users["aws_service_endpoint_data"].monthly_usd == pytest.approx(10 * 0.01)
