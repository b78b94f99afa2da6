"""How the cost and the quotas read in `plan` and at the end of `up` (exact lines)."""

from __future__ import annotations

import io

from rich.console import Console

from meshlink.cli.context import CliContext
from meshlink.cli.render_cost import render_cost, render_cost_summary, render_quotas
from meshlink.cost.estimate import Assumptions, estimate
from meshlink.quotas.check import check
from meshlink.topology.loader import load_topology, load_topology_text
from tests.helpers import EXAMPLES


def context() -> tuple[CliContext, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False, soft_wrap=True, color_system=None)
    return CliContext(console=console, err_console=console), out


def test_plan_cost_table_and_lines() -> None:
    cli, out = context()
    render_cost(cli, estimate(load_topology(EXAMPLES / "two-accounts.yaml"), Assumptions(50)))
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    assert lines[0].strip() == "cost (us-east-1, 730 hours a month)"
    row = next(line for line in lines if line.startswith("users    interface_endpoint "))
    assert row.split()[:6] == ["users", "interface_endpoint", "1,460", "AZ-hour", "0.01", "$14.60"]
    # each account's total a month and an hour: 90.09505 / 730 = 0.1234
    assert any(
        line.split() == ["users", "total", "$90.10", "$0.12", "an", "hour"] for line in lines
    )
    assert "cost: $180.19 a month ($0.25 an hour) in 2 account(s)" in lines
    assert lines[-2].startswith(
        "  NAT against endpoints: one NAT gateway $36.50 + $0.045/GB, AWS service endpoints "
        "(ecr.api, ecr.dkr, logs) $43.80 + $0.01/GB a month per account; break-even at 209 GB"
    )
    assert lines[-1].startswith("  prices taken 2026-12-02 from https://aws.amazon.com/")


def test_no_price_is_one_line() -> None:
    text = (EXAMPLES / "two-accounts.yaml").read_text().replace("us-east-1", "ca-central-1")
    cli, out = context()
    render_cost(cli, estimate(load_topology_text(text)))
    assert out.getvalue() == (
        "cost: no price for ca-central-1: prices.json covers ap-southeast-2, eu-west-1, us-east-1\n"
    )


def test_up_summary_line() -> None:
    cli, out = context()
    render_cost_summary(cli, estimate(load_topology(EXAMPLES / "full-mesh-4.yaml")))
    assert out.getvalue() == (
        "cost: $458.46 a month ($0.63 an hour): orders $114.62, payments $114.62, shipping "
        "$114.62, inventory $114.62 (at 10 GB a month per edge; `meshlink plan` itemises it)\n"
    )


def test_quota_line_names_the_busiest_quota() -> None:
    cli, out = context()
    render_quotas(cli, check(load_topology(EXAMPLES / "full-mesh-4.yaml")))
    # 3 endpoints to peers + ecr.api, ecr.dkr, logs = 6 of 50 in each VPC
    assert out.getvalue() == (
        "quotas: within every limit (defaults); highest: Interface VPC endpoints per VPC 6 of "
        "50 (the VPC of account 'orders')\n"
    )


def test_the_total_gives_the_range_auto_scaling_may_move_it_through() -> None:
    text = (EXAMPLES / "two-accounts.yaml").read_text()
    text = text.replace(
        "    desired_count: 2\n    consumes: [notification-service]",
        "    desired_count: 2\n    scaling: {min: 1, max: 4, cpu_target: 60}\n"
        "    consumes: [notification-service]",
    )
    cli, out = context()
    render_cost(cli, estimate(load_topology_text(text)))
    total = next(line for line in out.getvalue().splitlines() if line.startswith("cost: $"))
    # 175.3101 at desired_count; user-service's Fargate and logs at 1 task: 7.3876 +
    # 1.622425 + 0.5 = 9.510025 instead of 19.02005, at 4 tasks: 38.0401
    assert total == (
        "cost: $175.31 a month ($0.24 an hour) in 2 account(s); $165.80 to $194.33 as auto "
        "scaling moves"
    )
