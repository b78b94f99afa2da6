"""The quota check `plan` and `up` run before anything is deployed, and `validate`'s."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from meshlink.quotas.applied import AppliedLimits
from meshlink.quotas.check import Limits, QuotaReport, check, default_limits, enforce

if TYPE_CHECKING:
    from pathlib import Path

    from meshlink.deploy.runtime import MeshRuntime
    from meshlink.topology.model import Topology


def uploads_large_templates() -> bool:
    """True when the deployer sends a template over the inline limit by TemplateURL."""
    from meshlink.engines.cdk import deployer

    return bool(getattr(deployer, "UPLOADS_LARGE_TEMPLATES", False))


def mesh_quotas(runtime: MeshRuntime, *, templates: bool = True) -> QuotaReport:
    """The mesh's quota use: applied limits on `target: aws`, AWS's defaults locally;
    with `templates`, the synthesized templates' too (synthesis needs no cloud)."""
    topology = runtime.topology
    limits: Limits = default_limits
    applied: AppliedLimits | None = None
    others: dict[str, int] | None = None
    if topology.target == "aws":
        from meshlink.quotas.existing import other_nlbs

        sessions = runtime.sessions
        applied = AppliedLimits(
            lambda account: sessions.client(runtime.account_id(account), "service-quotas")
        )
        limits = applied
        others = other_nlbs(
            topology, lambda account: sessions.client(runtime.account_id(account), "elbv2")
        )
    synthesized = runtime.synthesized().templates if templates else None
    report = check(
        topology,
        limits,
        synthesized,
        uploads_large_templates=uploads_large_templates(),
        limits_source="defaults" if applied is None else "applied",
        other_nlbs=others,
    )
    for account, reason in (applied.unread if applied else {}).items():
        runtime.notice(
            f"could not read the applied quotas of account '{account}' ({reason}); checked "
            "against AWS's defaults"
        )
    return report


def preflight(runtime: MeshRuntime, file: Path, *, templates: bool = True) -> QuotaReport:
    """Check the mesh against its quotas; QuotaExceeded (exit 2) when it would break one.

    The topology's own counts come first, so a mesh over a quota fails before any
    synthesis; with `templates`, the synthesized templates' counts follow.
    """
    report = mesh_quotas(runtime, templates=False)
    enforce(report, file)
    if templates:
        report = mesh_quotas(runtime)
        enforce(report, file)
    return report


def validate_quotas(topology: Topology, file: Path, notice: Callable[[str], None]) -> QuotaReport:
    """`validate`'s check: the topology's counts, against the applied values when the
    account answers (target aws), else AWS's defaults (said through `notice`)."""
    if topology.target == "aws":
        from meshlink.aws.sessions import SessionFactory
        from meshlink.quotas.applied import AppliedLimits

        sessions = SessionFactory.for_topology(topology)
        applied = AppliedLimits(
            lambda account: sessions.client(topology.accounts[account].id, "service-quotas")
        )
        try:
            report = check(topology, applied, limits_source="applied")
        except Exception as exc:  # no credentials, no network: fall back, say so
            notice(
                f"could not read the accounts' applied quotas ({exc}); checked against AWS's "
                "defaults (plan reads the applied values)"
            )
        else:
            enforce(report, file)
            return report
    report = check(topology, default_limits)
    enforce(report, file)
    return report
