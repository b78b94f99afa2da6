"""The report: verdict, edge colours, JSON round trip, JUnit, the saved last result."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.errors import UsageError
from meshlink.verify import report as reports
from meshlink.verify.model import CheckResult, Subject, VerifyReport
from meshlink.verify.table import render_table, summary_line
from tests.helpers import EXAMPLES

U, N = "user-service", "notification-service"


def result(
    check: str, subject: Subject, status: str, edges: tuple[tuple[str, str], ...]
) -> CheckResult:
    category = "traffic" if check.startswith("traffic") else "control"
    return CheckResult(check, category, subject, status, f"{check} {status}", {"k": 1}, edges)  # type: ignore[arg-type]


def sample(*, broken: bool) -> VerifyReport:
    results = [
        result("traffic.positive", Subject.edge(U, N), "fail" if broken else "pass", ((U, N),)),
        result("traffic.positive", Subject.edge(N, U), "pass", ((N, U),)),
        result("service.ecs", Subject("service", U), "warn", ((N, U),)),
        result("endpoint.zones", Subject.edge(U, N), "skipped", ((U, N),)),
    ]
    return VerifyReport("shop", "local", results, 1_800_000_000.0, 2.5, edges=[(U, N), (N, U)])


def test_ok_only_when_nothing_failed() -> None:
    assert sample(broken=False).ok
    assert not sample(broken=True).ok
    assert sample(broken=True).counts() == {"pass": 1, "fail": 1, "warn": 1, "skipped": 1}


def test_edge_colours_follow_the_results_bearing_on_them() -> None:
    assert sample(broken=True).edge_states() == {(U, N): "fail", (N, U): "pass"}
    assert sample(broken=False).edge_states() == {(U, N): "pass", (N, U): "pass"}
    nothing = VerifyReport("shop", "local", [], 0.0, 0.0, edges=[(U, N)])
    assert nothing.edge_states() == {(U, N): "unknown"}


def test_json_document_round_trips() -> None:
    original = sample(broken=True)
    document = reports.to_json(original)
    assert document["schema"] == "meshlink.verify/v1"
    assert list(document) == [
        "schema",
        "mesh",
        "target",
        "ok",
        "started_at",
        "seconds",
        "options",
        "summary",
        "edges",
        "checks",
    ]
    assert document["summary"] == {
        "pass": 1,
        "fail": 1,
        "warn": 1,
        "skipped": 1,
        "probes": 2,
        "probe_tasks": 0,  # no task_arn in these results' evidence
    }
    assert document["edges"][0] == {"consumer": U, "provider": N, "state": "fail"}
    assert document["checks"][0]["subject"] == {
        "kind": "edge",
        "name": f"{U}->{N}",
        "consumer": U,
        "provider": N,
    }
    again = reports.from_json(json.loads(json.dumps(document)))
    assert reports.to_json(again) == document


def test_saved_and_loaded_next_to_the_journal(tmp_path: Path) -> None:
    path = reports.save(tmp_path, sample(broken=True))
    assert path == tmp_path / "verify.json"
    assert reports.last_edge_states(tmp_path) == {(U, N): "fail", (N, U): "pass"}
    with pytest.raises(UsageError, match="no verify result"):
        reports.load(tmp_path / "elsewhere")
    (tmp_path / "verify.json").write_text('{"schema": "other"}')
    with pytest.raises(UsageError, match=r"not a meshlink\.verify/v1 document"):
        reports.load(tmp_path)


def test_junit_has_a_case_per_check_and_subject() -> None:
    root = ET.fromstring(reports.junit(sample(broken=True)))
    assert root.get("tests") == "4"
    assert root.get("failures") == "1"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"shop.control", "shop.traffic"}
    traffic = suites["shop.traffic"]
    failed = [c for c in traffic.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == [f"traffic.positive [edge {U}->{N}]"]
    assert json.loads(failed[0].find("failure").text or "") == {"k": 1}  # type: ignore[union-attr]
    control = [c for c in suites["shop.control"].iter("testcase")]
    assert control[1].find("skipped") is not None
    assert "warning:" in (control[0].find("system-out").text or "")  # type: ignore[union-attr]


def test_table_groups_by_edge_and_says_the_verdict() -> None:
    from rich.console import Console

    console = Console(width=200, record=True, color_system=None)
    console.print(render_table(sample(broken=True)))
    text = console.export_text()
    assert text.index("service user-service") < text.index(f"{N} → {U}")
    assert f"{U} → {N}" in text
    assert "✗" in text
    assert summary_line(sample(broken=True)).startswith("[red]verify failed[/red]")


def test_graph_verify_colours_edges_from_the_saved_result(tmp_path: Path) -> None:
    runner = CliRunner()
    topology = str(EXAMPLES / "two-accounts.yaml")
    args = ["-f", topology, "graph", "--verify", "--workdir", str(tmp_path)]
    missing = runner.invoke(app, args)
    assert missing.exit_code == 2
    assert "run `meshlink verify` first" in missing.stderr
    reports.save(tmp_path / ".meshlink" / "shop" / "local", sample(broken=True))
    drawn = runner.invoke(app, args, catch_exceptions=False)
    assert drawn.exit_code == 0
    assert "n_user_service -->|fail| n_notification_service" in drawn.stdout
    assert "linkStyle 0 stroke:#cf222e" in drawn.stdout
    assert "linkStyle 1 stroke:#2da44e" in drawn.stdout
    dot = runner.invoke(app, [*args, "--format", "dot"], catch_exceptions=False)
    assert 'label="fail"' in dot.stdout
