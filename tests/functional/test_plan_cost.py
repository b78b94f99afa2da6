"""`meshlink plan` says what the mesh costs and which quotas it uses, through the real CLI
against the real local cloud; the HTML graph carries each edge's cost; Service Quotas is
read from the local cloud (moto answers for VPC quotas only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.functional.deploy_support import cli, cli_json, write_topology

pytestmark = pytest.mark.usefixtures("local_cloud")


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def test_plan_json_has_the_cost_and_quotas(workdir: Path) -> None:
    topology = write_topology(workdir, "two-accounts.yaml", "costly")
    code, plan = cli_json(topology, "plan", "--traffic", "50")
    assert code == 0, plan
    cost = plan["cost"]
    # Per account (us-east-1, 730 h, 50 GB): NAT 730 x 0.045 = 32.85, NAT data 50 x 0.045
    # = 2.25, its IPv4 730 x 0.005 = 3.65, NLB 730 x 0.0225 = 16.425, NLCU 50 x 0.006 =
    # 0.30, endpoint 1,460 AZ-h x 0.01 = 14.60, endpoint data 50 x 0.01 = 0.50, Fargate
    # 365 vCPU-h x 0.04048 = 14.7752 and 730 GB-h x 0.004445 = 3.24485, logs 2 GB x 0.50
    # = 1.00, flow logs 1 GB x 0.50 = 0.50: 90.09505; two accounts 180.1901.
    assert cost["monthly_usd"] == 180.19
    assert cost["accounts"] == {"users": 90.1, "notify": 90.1}
    assert cost["accounts_hourly_usd"] == {"users": 0.1234, "notify": 0.1234}  # / 730
    assert cost["monthly_usd_range"] == [180.19, 180.19]  # no scaling: the count is fixed
    by_kind: dict[str, dict[str, Any]] = {
        item["kind"]: item for item in cost["items"] if item["account"] == "users"
    }
    assert {k: (v["quantity"], v["unit"], v["unit_usd"]) for k, v in by_kind.items()} == {
        "nat_gateway": (730, "hour", 0.045),
        "nat_gateway_data": (50, "GB", 0.045),
        "public_ipv4": (730, "hour", 0.005),
        "nlb": (730, "hour", 0.0225),
        "nlb_capacity": (50, "NLCU-hour", 0.006),
        "interface_endpoint": (1460, "AZ-hour", 0.01),
        "interface_endpoint_data": (50, "GB", 0.01),
        "fargate_vcpu": (365, "vCPU-hour", 0.04048),
        "fargate_memory": (730, "GB-hour", 0.004445),
        "logs_ingestion": (2, "GB", 0.5),
        "flow_logs_ingestion": (1, "GB", 0.5),
    }
    assert by_kind["interface_endpoint"]["monthly_usd"] == 14.6
    assert cost["breakeven"]["break_even_gb"] == 208.6  # (43.80 - 36.50) / 0.035
    quotas = plan["quotas"]
    assert quotas["ok"] is True and quotas["limits"] == "defaults"
    assert quotas["templates_checked"] is True
    names = {q["quota"] for q in quotas["quotas"]}
    assert {
        "Interface VPC endpoints per VPC",
        "Network Load Balancers per Region",
        "Listeners per Network Load Balancer",
        "Inbound or outbound rules per security group",
        "Template body size in a request",
    } <= names


def test_plan_table_and_an_unpriced_region(workdir: Path) -> None:
    topology = write_topology(
        workdir, "two-accounts.yaml", "faraway", **{"region: us-east-1": "region: eu-central-1"}
    )
    code, stdout, stderr = cli(topology, "plan")
    assert code == 0, stdout + stderr
    assert (
        "cost: no price for eu-central-1: prices.json covers ap-southeast-2, eu-west-1, " in stdout
    )
    assert "quotas: within every limit (defaults)" in stdout


def test_html_graph_carries_edge_costs(workdir: Path) -> None:
    topology = write_topology(workdir, "full-mesh-4.yaml", "pricedgraph")
    out = workdir / "mesh.html"
    code, stdout, stderr = cli(topology, "graph", "--format", "html", "-o", str(out))
    assert code == 0, stdout + stderr
    page = out.read_text()
    # orders -> payments: endpoint 2 AZs x 730 h x 0.01 = 14.60, its data 10 GB x 0.01 =
    # 0.10, a third of payments' NLB 730 x 0.0225 / 3 = 5.475, NLCU 10 x 0.006 = 0.06.
    assert '"id": "L_n_orders_n_payments_0"' in page
    assert (
        "$20.23 a month: endpoint $14.60 (2 AZs), endpoint data $0.10, NLB $5.48 (1/3 of it)"
        in page
    )


def test_applied_quotas_are_read_from_service_quotas(local_sessions: Any) -> None:
    from meshlink.quotas.applied import AppliedLimits
    from meshlink.quotas.limits import QUOTAS

    limits = AppliedLimits(lambda account: local_sessions.client("111111111111", "service-quotas"))
    # moto's Service Quotas knows VPC quotas: the applied value is read from it.
    assert limits("users", QUOTAS["interface_endpoints_per_vpc"]) == (50, True)
    assert limits("users", QUOTAS["rules_per_security_group"]) == (60, True)
    # It answers NoSuchResourceException for ELB's, as AWS does for an untracked quota.
    assert limits("users", QUOTAS["nlbs_per_region"]) == (50, False)


def test_up_ends_with_the_cost(workdir: Path) -> None:
    """Only the network is deployed (fast); the summary still says what the mesh costs."""
    topology = write_topology(workdir, "two-accounts.yaml", "costup")
    try:
        code, summary = cli_json(topology, "up", "--yes", "--only", "network")
        assert code == 0, summary
        # 2 x 87.65505 at the default 10 GB (tests/unit/cost/test_estimate.py by hand)
        assert summary["cost"]["monthly_usd"] == 175.31
        assert summary["cost"]["accounts"] == {"users": 87.66, "notify": 87.66}
        code, stdout, stderr = cli(topology, "up", "--yes", "--only", "network", "--traffic", "50")
        assert code == 0, stdout + stderr
        assert "cost: $180.19 a month ($0.25 an hour): users $90.10, notify $90.10" in stdout
    finally:
        assert cli(topology, "down", "--yes", "--only", "network")[0] == 0


def test_other_nlbs_in_the_account_are_counted(local_sessions: Any) -> None:
    from meshlink.quotas.existing import other_nlbs
    from meshlink.topology.loader import load_topology
    from tests.helpers import EXAMPLES

    topology = load_topology(EXAMPLES / "two-accounts.yaml")
    account_id = "444455556666"  # an account no other test uses
    ec2 = local_sessions.client(account_id, "ec2")
    elbv2 = local_sessions.client(account_id, "elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    for name, tags in (
        ("someone-else-1", []),
        ("someone-else-2", [{"Key": "meshlink:mesh-id", "Value": "another-mesh"}]),
        ("ours", [{"Key": "meshlink:mesh-id", "Value": topology.identity}]),
    ):
        elbv2.create_load_balancer(
            Name=name,
            Subnets=[subnet],
            Type="network",
            Scheme="internal",
            **({"Tags": tags} if tags else {}),
        )
    found = other_nlbs(topology, lambda account: local_sessions.client(account_id, "elbv2"))
    assert found == {"users": 2, "notify": 2}
