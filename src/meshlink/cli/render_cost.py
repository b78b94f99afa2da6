"""How the cost estimate and the quota check look in `plan` and at the end of `up`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from meshlink.cli.context import CliContext

if TYPE_CHECKING:
    from meshlink.cost.estimate import CostEstimate
    from meshlink.quotas.check import QuotaReport


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _quantity(value: float) -> str:
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def render_cost(cli: CliContext, estimate: CostEstimate) -> None:
    """The cost table: a line item per account and kind, totals, assumptions, break-even."""
    if estimate.prices is None:
        cli.console.print(f"[yellow]cost:[/yellow] {escape(estimate.no_price())}")
        return
    table = Table(
        title=f"cost ({estimate.region}, {estimate.hours_per_month} hours a month)",
        box=None,
        header_style="bold",
        pad_edge=False,
    )
    table.add_column("account", overflow="fold")
    table.add_column("item", overflow="fold")
    table.add_column("quantity", justify="right", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("$/unit", justify="right", no_wrap=True)
    table.add_column("$/month", justify="right", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=1)
    totals = estimate.by_account()
    for account, total in totals.items():
        for item in (i for i in estimate.items if i.account == account):
            table.add_row(
                account,
                item.kind,
                _quantity(item.quantity),
                item.unit,
                f"{item.unit_usd:g}",
                _usd(item.monthly_usd),
                f"[dim]{escape(item.detail)}[/dim]",
            )
        table.add_row(
            "",
            f"[bold]{account} total[/bold]",
            "",
            "",
            "",
            f"[bold]{_usd(total)}[/bold]",
            f"{_usd(total / estimate.hours_per_month)} an hour",
        )
    cli.console.print(table)
    low, high = estimate.monthly_usd_range
    scaling = "" if low == high else f"; {_usd(low)} to {_usd(high)} as auto scaling moves"
    cli.console.print(
        f"[bold]cost: {_usd(estimate.monthly_usd)} a month[/bold] "
        f"({_usd(estimate.hourly_usd)} an hour) in {len(totals)} account(s){scaling}"
    )
    for line in estimate.assumptions.lines():
        cli.console.print(f"[dim]  assumed {escape(line)}[/dim]")
    if estimate.breakeven is not None:
        cli.console.print(f"[dim]  {escape(estimate.breakeven.sentence())}[/dim]")
    prices = estimate.prices
    cli.console.print(
        f"[dim]  prices taken {prices.taken()} from {escape(', '.join(prices.sources()))}[/dim]"
    )


def render_cost_summary(cli: CliContext, estimate: CostEstimate) -> None:
    """One line for the end of `up`: what the mesh now costs, per account and in all."""
    if estimate.prices is None:
        cli.console.print(f"[dim]cost: {escape(estimate.no_price())}[/dim]")
        return
    accounts = ", ".join(f"{a} {_usd(usd)}" for a, usd in estimate.by_account().items())
    cli.console.print(
        f"cost: {_usd(estimate.monthly_usd)} a month ({_usd(estimate.hourly_usd)} an hour): "
        f"{accounts} [dim](at {estimate.assumptions.traffic_gb:g} GB a month per edge; "
        "`meshlink plan` itemises it)[/dim]"
    )


def render_quotas(cli: CliContext, report: QuotaReport) -> None:
    """Non-blocking findings (a big template that goes by S3) and one summary line."""
    for use in report.warnings():
        cli.console.print(f"[yellow]quota:[/yellow] {escape(use.message())}")
    busiest = max(report.highest(), key=lambda use: use.used / use.limit, default=None)
    if busiest is None:
        return
    cli.console.print(
        f"[dim]quotas: within every limit ({report.limits_source}); highest: "
        f"{escape(busiest.quota.name)} {busiest.used:,} of {busiest.limit:,} "
        f"({escape(busiest.subject)})[/dim]"
    )


def with_cost(
    payload: dict[str, Any], cost: CostEstimate | None, quotas: QuotaReport | None
) -> dict[str, Any]:
    """`plan --json` with its `cost` and `quotas` keys (when they were worked out)."""
    if cost is not None:
        payload["cost"] = cost.to_dict()
    if quotas is not None:
        payload["quotas"] = quotas.to_dict()
    return payload


def render_cost_and_quotas(
    cli: CliContext, cost: CostEstimate | None, quotas: QuotaReport | None
) -> None:
    """What `plan` prints after its table."""
    if cost is not None:
        render_cost(cli, cost)
    if quotas is not None:
        render_quotas(cli, quotas)
