"""`meshlink graph` in each format; the HTML page is rendered by headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.graph.journal import NodeRecord
from meshlink.verify import report as reports
from meshlink.verify.model import CheckResult, Subject, VerifyReport
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


def chromium_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM is not None
    return subprocess.run(
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
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    out = tmp_path / "mesh.html"
    graph("--format", "html", "-o", str(out))
    dom = chromium_dom(out, tmp_path / "profile")
    assert 'data-rendered="yes"' in dom
    assert "<svg" in dom and "user-service :8080" in dom


# graph --verify: the saved result, fresh or stale. T0 is when verify started (2.5 s run).
U, N = "user-service", "notification-service"
T0 = 1_800_000_000.0
STALE_TITLE = "WARNING: stale verify result (verify ran 2027-01-15 08:00:00 UTC)"
RERUN = "run `meshlink verify` to check the mesh as it is now"
REDEPLOY = "deploy it with `meshlink up`, then run `meshlink verify`"
NEWER = "`meshlink up` or `down` ran after verify: 1 node finished later (last: service:u at "
GONE = "the mesh is no longer deployed: the journal records no deployed node"


def saved_result(workdir: Path, *, journal_at: float, deployed: bool = True) -> None:
    """A verify result (user->notification failed) and a journal last changed at journal_at."""
    state = workdir / ".meshlink" / "shop" / "local"
    results = [
        CheckResult("traffic.positive", "traffic", Subject.edge(U, N), "fail", "no", {}, ((U, N),)),
        CheckResult("traffic.positive", "traffic", Subject.edge(N, U), "pass", "ok", {}, ((N, U),)),
    ]
    reports.save(state, VerifyReport("shop", "local", results, T0, 2.5, edges=[(U, N), (N, U)]))
    nodes = {"network:users": asdict(NodeRecord(status="done", finished_at=T0 - 90))}
    if deployed:
        nodes["service:u"] = asdict(NodeRecord(status="done", finished_at=journal_at))
    else:
        nodes = {}  # down forgets every node it deleted
    payload = {"version": 1, "written_at": journal_at, "nodes": nodes}
    (state / "journal.json").write_text(json.dumps(payload))


def graph_verify(workdir: Path, *args: str, as_json: bool = False) -> tuple[str, str]:
    root = ["-f", TWO, "--json"] if as_json else ["-f", TWO]
    result = runner.invoke(
        app, [*root, "graph", "--verify", "--workdir", str(workdir), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_graph_verify_without_a_result_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["-f", TWO, "graph", "--verify", "--workdir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no verify result at" in result.stderr
    assert "run `meshlink verify` first" in result.stderr


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "html"])
def test_a_fresh_result_is_drawn_without_a_warning(tmp_path: Path, fmt: str) -> None:
    saved_result(tmp_path, journal_at=T0 - 60)
    drawn, stderr = graph_verify(tmp_path, "--format", fmt)
    assert stderr == ""
    assert "stale" not in drawn.lower()
    assert {"mermaid": "-->|fail|", "dot": 'label="fail"', "html": "--&gt;|fail|"}[fmt] in drawn


def test_a_result_older_than_the_journal_is_marked_in_every_format(tmp_path: Path) -> None:
    saved_result(tmp_path, journal_at=T0 + 600)
    mermaid, stderr = graph_verify(tmp_path)
    assert mermaid.startswith(f'---\ntitle: "{STALE_TITLE}: {NEWER}')
    assert mermaid.split("\n")[2:4] == ["---", "flowchart LR"]
    assert f'. Fix: {RERUN}"\n' in mermaid
    assert "n_user_service -->|fail| n_notification_service" in mermaid  # colours stay
    assert stderr == (
        "warning: stale verify result (verify ran 2027-01-15 08:00:00 UTC)\n"
        f"  {NEWER}2027-01-15 08:10:00 UTC)\n"
        f"hint: {RERUN}\n"
    )
    dot, _ = graph_verify(tmp_path, "--format", "dot")
    last = dot.splitlines()[-2]
    assert last.startswith(f'  label="{STALE_TITLE}: {NEWER}')
    assert last.endswith('"; labelloc=t; labeljust=l; fontcolor="#9a6700";')
    assert dot.splitlines()[-1] == "}"
    page, _ = graph_verify(tmp_path, "--format", "html")
    assert (
        '<div class="notice" id="notice" role="alert"><strong>Warning: stale verify result '
        f"(verify ran 2027-01-15 08:00:00 UTC)</strong><ul><li>{NEWER}"
    ) in page
    assert f"<p>{RERUN}</p></div>" in page
    # The banner says it once: the diagram itself has no title.
    assert '<pre class="mermaid" id="mesh">\nflowchart LR\n' in page


def test_a_result_after_down_says_the_mesh_is_gone(tmp_path: Path) -> None:
    saved_result(tmp_path, journal_at=T0 + 600, deployed=False)
    mermaid, stderr = graph_verify(tmp_path)
    assert f"{STALE_TITLE}: {GONE} (journal written 2027-01-15 08:10:00 UTC). Fix: {REDEPLOY}" in (
        mermaid
    )
    assert GONE in stderr and f"hint: {REDEPLOY}" in stderr
    dot, _ = graph_verify(tmp_path, "--format", "dot")
    assert f'label="{STALE_TITLE}: {GONE}' in dot
    page, _ = graph_verify(tmp_path, "--format", "html")
    assert f"<li>{GONE} (journal written 2027-01-15 08:10:00 UTC)</li>" in page
    assert f"<p>{REDEPLOY}</p>" in page


def test_json_carries_stale_and_the_reason(tmp_path: Path) -> None:
    saved_result(tmp_path, journal_at=T0 - 60)
    fresh = json.loads(graph_verify(tmp_path, as_json=True)[0])
    assert fresh["verify"]["stale"] is False and fresh["verify"]["reason"] is None
    assert fresh["diagram"].startswith("flowchart LR\n")
    assert fresh["verify"]["edges"][0] == {"consumer": U, "provider": N, "state": "fail"}
    saved_result(tmp_path, journal_at=T0 + 600, deployed=False)
    out = tmp_path / "mesh.dot"
    gone = json.loads(graph_verify(tmp_path, "--format", "dot", "-o", str(out), as_json=True)[0])
    assert gone["verify"]["stale"] is True
    assert gone["verify"]["reason"].startswith(GONE)
    assert gone["verify"]["reasons"][0]["code"] == "not-deployed"
    assert gone["verify"]["hint"] == REDEPLOY
    assert gone["diagram"] is None and gone["output"] == str(out)
    assert out.read_text().startswith("digraph mesh {")
    plain = json.loads(runner.invoke(app, ["-f", TWO, "--json", "graph"]).stdout)
    assert plain["verify"] is None and plain["format"] == "mermaid"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_stale_html_shows_its_banner_in_headless_chromium(tmp_path: Path) -> None:
    saved_result(tmp_path, journal_at=T0 + 600)
    out = tmp_path / "mesh.html"
    graph_verify(tmp_path, "--format", "html", "-o", str(out))
    dom = chromium_dom(out, tmp_path / "profile")
    assert 'data-rendered="yes"' in dom
    assert "<svg" in dom and 'id="notice"' in dom and "Warning: stale verify result" in dom
