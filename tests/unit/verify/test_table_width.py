"""verify's table at ordinary widths: ARNs and ids fold over lines, never cut."""

from __future__ import annotations

import pytest
from rich.console import Console

from meshlink.verify.model import CheckResult, Subject, VerifyReport
from meshlink.verify.table import render_table, summary_line
from tests.text_width import folded_in, widest

SERVICE = "vpce-svc-0f1e2d3c4b5a69788"
ROLE = "arn:aws:iam::111111111111:role/MeshlinkDeploy"
OTHER = "arn:aws:iam::333333333333:role/service-role/SomeVeryLongRoleNameForTesting"
STACK = "meshlink-shop-endpoints-notification-service"


def report() -> VerifyReport:
    results = [
        CheckResult(
            "endpoint-service.principals",
            "control",
            Subject("service", "notification-service"),
            "fail",
            f"{SERVICE} principals differ: extra {OTHER}; missing {ROLE}",
        ),
        CheckResult("stack.status", "control", Subject("stack", STACK), "pass", "CREATE_COMPLETE"),
    ]
    return VerifyReport("shop", "local", results, 0.0, 1.0)


@pytest.mark.parametrize("width", [80, 100, 120])
def test_the_table_fits_and_keeps_every_arn(width: int) -> None:
    console = Console(width=width, record=True, color_system=None, soft_wrap=True)
    console.print(render_table(report()))
    text = console.export_text()
    assert widest(text) <= width, text
    for value in (SERVICE, ROLE, OTHER, STACK):
        assert folded_in(text, value), (value, text)


def test_summary_counts_in_the_singular_and_plural() -> None:
    one = summary_line(report())
    assert "0 warnings" in one and "0 probes" in one
