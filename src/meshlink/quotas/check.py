"""How much of each AWS quota a mesh uses, counted before anything is deployed.

Counts come from the topology (cost/usage.py, the same counts the cost estimate uses)
and, for what only the templates show (security-group rules, template size), from the
synthesized templates. Limits come from a `Limits` function: AWS's defaults, or the
account's applied values on `target: aws` (quotas/applied.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshlink.cost.usage import AccountUsage, mesh_usage
from meshlink.errors import Problem, TopologyError
from meshlink.quotas.limits import QUOTAS, Quota
from meshlink.topology.locations import PathKey
from meshlink.topology.model import Topology

# (topology account key, quota) -> (limit, True when read from the account)
Limits = Callable[[str, Quota], tuple[int, bool]]


def default_limits(account: str, quota: Quota) -> tuple[int, bool]:
    """AWS's default value of every quota."""
    return quota.default, False


@dataclass(frozen=True)
class QuotaUse:
    """How much of one quota one subject (a VPC, an NLB, a group, a template) uses."""

    quota: Quota
    account: str
    subject: str
    used: int
    limit: int
    applied: bool
    path: PathKey
    note: str = ""
    # False where exceeding is no blocker (a big template meshlink uploads to S3).
    blocking: bool = True

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    @property
    def blocks(self) -> bool:
        return self.exceeded and self.blocking

    def message(self) -> str:
        source = "applied in the account" if self.applied else "AWS default"
        text = (
            f"{self.subject} would have {self.used:,} {self.quota.counts}: over the quota "
            f"{self.quota.label()} of {self.limit:,} ({source})"
        )
        return text + (f"; {self.note}" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "quota": self.quota.name,
            "code": self.quota.code,
            "service_code": self.quota.service_code,
            "account": self.account,
            "subject": self.subject,
            "used": self.used,
            "limit": self.limit,
            "limit_source": "applied" if self.applied else "default",
            "exceeded": self.exceeded,
            "blocking": self.blocking,
            "note": self.note,
        }


@dataclass(frozen=True)
class QuotaReport:
    uses: list[QuotaUse]
    limits_source: str  # "defaults" or "applied"
    templates_checked: bool

    def blocking(self) -> list[QuotaUse]:
        return [use for use in self.uses if use.blocks]

    def warnings(self) -> list[QuotaUse]:
        return [use for use in self.uses if use.exceeded and not use.blocking]

    def highest(self) -> list[QuotaUse]:
        """The most used subject of each quota (what a table shows)."""
        best: dict[str, QuotaUse] = {}
        for use in self.uses:
            current = best.get(use.quota.key)
            if current is None or use.used / use.limit > current.used / current.limit:
                best[use.quota.key] = use
        return [best[key] for key in QUOTAS if key in best]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.blocking(),
            "limits": self.limits_source,
            "templates_checked": self.templates_checked,
            "exceeded": [use.to_dict() for use in self.uses if use.exceeded],
            "quotas": [use.to_dict() for use in self.highest()],
        }


class QuotaExceeded(TopologyError):
    """The mesh would exceed an AWS quota: every finding located in the topology file."""


def topology_uses(
    topology: Topology,
    limits: Limits = default_limits,
    other_nlbs: Mapping[str, int] | None = None,
) -> list[QuotaUse]:
    """Quota use of everything the topology alone decides (`other_nlbs`: per account, NLBs
    already there that are not the mesh's)."""
    others = other_nlbs or {}
    return [
        use
        for usage in mesh_usage(topology)
        for use in _account_uses(usage, limits, others.get(usage.account, 0))
    ]


def _account_uses(usage: AccountUsage, limits: Limits, other_nlbs: int) -> list[QuotaUse]:
    account = usage.account
    where: PathKey = ("accounts", account)

    def use(key: str, subject: str, used: int, note: str, limit_of: str = "") -> QuotaUse:
        limit, applied = limits(account, QUOTAS[limit_of or key])
        return QuotaUse(QUOTAS[key], account, subject, used, limit, applied, where, note)

    aws = len(usage.aws_endpoints)
    uses = [
        use(
            "interface_endpoints_per_vpc",
            f"the VPC of account '{account}'",
            usage.interface_endpoints,
            f"{len(usage.endpoints)} to consumed services"
            + (f" + {aws} to AWS services ({', '.join(usage.aws_endpoints)})" if aws else ""),
        ),
        use(
            "nlbs_per_region",
            f"account '{account}'",
            len(usage.exposed) + other_nlbs,
            "one per consumed service"
            + (f", and {other_nlbs} the account has already" if other_nlbs else ""),
        ),
        use(
            "endpoint_services_per_region",
            f"account '{account}'",
            len(usage.exposed),
            "one per consumed service, each behind its own NLB (AWS bounds them through "
            "Network Load Balancers per Region)",
            limit_of="nlbs_per_region",
        ),
    ]
    listeners = QUOTAS["listeners_per_nlb"]
    limit, applied = limits(account, listeners)
    for service in usage.exposed:
        # One TCP listener on the service's port (stacks/edge.py).
        uses.append(
            QuotaUse(
                listeners,
                account,
                f"the NLB of '{service}'",
                1,
                limit,
                applied,
                ("services", service),
            )
        )
    return uses


def check(
    topology: Topology,
    limits: Limits = default_limits,
    templates: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    uploads_large_templates: bool = False,
    limits_source: str = "defaults",
    other_nlbs: Mapping[str, int] | None = None,
) -> QuotaReport:
    """Every quota the mesh uses; templates (by stack name), when given, add theirs."""
    from meshlink.quotas.templates import template_uses

    uses = topology_uses(topology, limits, other_nlbs)
    if templates is not None:
        uses += template_uses(topology, templates, limits, uploads_large_templates)
    return QuotaReport(uses, limits_source, templates is not None)


def problems(report: QuotaReport, file: Path | str) -> Iterator[Problem]:
    """The report's blocking findings, located in the topology file, with their remedy."""
    from meshlink.topology.locations import Locations, parse_document

    blocking = report.blocking()
    if not blocking:
        return  # the file is read again only to locate a finding
    try:
        locations = parse_document(Path(file).read_text(encoding="utf-8")).locations
    except OSError:
        locations = Locations()
    for use in blocking:
        line, col = locations.of_key(use.path)
        yield Problem(use.message(), line, col, use.quota.how_to_raise())


def enforce(report: QuotaReport, file: Path | str) -> None:
    """Raise QuotaExceeded (exit 2) when the mesh would exceed a quota."""
    found = list(problems(report, file))
    if found:
        raise QuotaExceeded(path=file, problems=found)
