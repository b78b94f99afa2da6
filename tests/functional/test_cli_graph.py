"""`meshlink graph` in each format; the HTML page is rendered by headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from tests.helpers import EXAMPLES

runner = CliRunner()
TWO = str(EXAMPLES / "two-accounts.yaml")


def graph(*args: str) -> str:
    result = runner.invoke(app, ["-f", TWO, "graph", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_mermaid_has_accounts_as_boxes_and_edges_as_arrows() -> None:
    assert graph() == (
        "flowchart LR\n"
        '  subgraph n_acct_users["users (111111111111)"]\n'
        '    n_user_service["user-service :8080"]\n'
        "  end\n"
        '  subgraph n_acct_notify["notify (222222222222)"]\n'
        '    n_notification_service["notification-service :8081"]\n'
        "  end\n"
        "  n_user_service --> n_notification_service\n"
        "  n_notification_service --> n_user_service\n"
    )


def test_dot_output() -> None:
    text = graph("--format", "dot")
    assert text.startswith("digraph mesh {")
    assert "subgraph cluster_n_users {" in text
    assert "n_user_service -> n_notification_service;" in text
    assert "n_notification_service -> n_user_service;" in text


def test_html_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "mesh.html"
    graph("--format", "html", "-o", str(out))
    page = out.read_text()
    assert "<script src=" not in page  # nothing is fetched
    assert "n_user_service --&gt; n_notification_service" in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    out = tmp_path / "mesh.html"
    graph("--format", "html", "-o", str(out))
    dom = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            out.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert 'data-rendered="yes"' in dom
    assert "<svg" in dom and "user-service :8080" in dom
