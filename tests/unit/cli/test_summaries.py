"""Summaries count in the singular and the plural."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.cli.context import CliContext
from meshlink.cli.render_plan import render_plan
from meshlink.deploy.handlers.model import NodePlan
from meshlink.deploy.plan import MeshPlan
from meshlink.words import plural

ONE = """\
name: solo
accounts:
  a: { id: "777777777777", vpc_cidr: 10.7.0.0/16 }
services:
  web: { account: a, port: 8090 }
"""


def test_plural() -> None:
    assert [plural(n, "edge") for n in (0, 1, 2)] == ["0 edges", "1 edge", "2 edges"]
    assert plural(2, "index", "indices") == "2 indices"


def test_validate_says_1_account_1_service_0_edges(tmp_path: Path) -> None:
    path = tmp_path / "solo.yaml"
    path.write_text(ONE)
    result = CliRunner().invoke(app, ["-f", str(path), "validate"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "— 1 account, 1 service, 0 edges (0 internal, 0 external)" in result.stdout


def test_plan_counts_one_acceptance_step() -> None:
    out = io.StringIO()
    cli = CliContext(console=Console(file=out, width=100, color_system=None))
    render_plan(
        cli, MeshPlan([NodePlan("network:a", "create"), NodePlan("accept:web", "reconcile")])
    )
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("plan: 1 to create, 0 to update, ")
    assert last.endswith(", 0 to delete, 0 unchanged, 1 acceptance step")
