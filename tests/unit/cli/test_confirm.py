"""up/down ask before they change a mesh, and refuse when nobody can answer.

The plan, the teardown reading and the runs themselves are stand-ins here (they need a
cloud); tests/functional/test_cli_honest.py runs the same commands for real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.deploy.handlers.model import Change, NodePlan
from meshlink.deploy.plan import MeshPlan
from meshlink.deploy.run import RunReport, selected_graph
from meshlink.deploy.runtime import MeshRuntime
from meshlink.deploy.status import NodeStatus, Teardown
from meshlink.graph.executor import Event, EventSink, Outcome
from meshlink.quotas.check import QuotaReport
from tests.helpers import VALID_YAML

runner = CliRunner()


class Fakes:
    def __init__(self) -> None:
        self.ran: list[str] = []
        self.planned = 0
        self.read = 0
        self.present: list[NodeStatus] = []
        self.down_outcome = Outcome("done", "deleted")

    def plan(self, runtime: MeshRuntime) -> MeshPlan:
        self.planned += 1
        return MeshPlan(
            [
                NodePlan("network:users", "create"),
                NodePlan("network:notify", "create"),
                NodePlan(
                    "service:user-service",
                    "update",
                    "",
                    [Change("Modify", "Service", "AWS::ECS::Service", "True")],
                ),
                NodePlan("edge:user-service", "unchanged"),
                NodePlan("platform:users", "unchanged"),
                NodePlan("platform:notify", "unchanged"),
            ]
        )

    def teardown(self, runtime: MeshRuntime) -> Teardown:
        self.read += 1
        graph = selected_graph(runtime)
        present = {p.node for p in self.present}
        absent = [n for n in graph.topological_order() if n not in present]
        return Teardown(self.present, absent, [])

    def run(self, action: str, outcome: Outcome) -> Any:
        def run(runtime: MeshRuntime, sink: EventSink) -> RunReport:
            self.ran.append(action)
            outcomes = {}
            for node in selected_graph(runtime).topological_order():
                sink(Event(node, "started"))
                outcomes[node] = Outcome(outcome.status, outcome.detail)
                sink(Event(node, "finished", outcome=outcomes[node]))
            return RunReport(action, outcomes, 0.5)

        return run


@pytest.fixture()
def fakes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Fakes:
    import meshlink.deploy.plan
    import meshlink.deploy.run
    import meshlink.deploy.status
    import meshlink.quotas.preflight

    found = Fakes()
    monkeypatch.setattr(meshlink.deploy.plan, "plan", found.plan)
    monkeypatch.setattr(meshlink.deploy.status, "teardown", found.teardown)
    monkeypatch.setattr(meshlink.deploy.status, "edge_states", lambda runtime: [])
    monkeypatch.setattr(meshlink.deploy.run, "up", found.run("up", Outcome("done", "created")))
    # The quota check synthesizes the mesh (tests/unit/quotas covers it): a stand-in here.
    monkeypatch.setattr(
        meshlink.quotas.preflight,
        "preflight",
        lambda runtime, file, **kw: QuotaReport([], "", False),
    )
    monkeypatch.setattr(
        meshlink.deploy.run, "down", lambda r, s: found.run("down", found.down_outcome)(r, s)
    )
    (tmp_path / "meshlink.yaml").write_text(VALID_YAML)
    monkeypatch.chdir(tmp_path)
    return found


def at_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import meshlink.cli.confirm

    monkeypatch.setattr(meshlink.cli.confirm, "stdin_is_terminal", lambda: True)


@pytest.mark.parametrize("command", ["up", "down"])
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_without_yes_off_a_terminal_refuses_and_touches_nothing(
    fakes: Fakes, command: str, json_flag: list[str]
) -> None:
    result = runner.invoke(app, [*json_flag, command], catch_exceptions=False)
    assert result.exit_code == 2
    assert "stdin is not a terminal" in result.stderr
    assert f"hint: to {command} without being asked, add --yes" in result.stderr
    assert result.stdout == ""
    assert (fakes.ran, fakes.planned, fakes.read) == ([], 0, 0)


def test_with_yes_off_a_terminal_runs_without_asking(fakes: Fakes) -> None:
    result = runner.invoke(app, ["up", "--yes"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert fakes.ran == ["up"] and fakes.planned == 0
    assert "up finished in 0.5s: 12 nodes: 12 done" in result.stdout


def test_up_prompt_shows_the_plan_and_no_changes_nothing(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_terminal(monkeypatch)
    result = runner.invoke(app, ["up"], input="n\n", catch_exceptions=False)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "up will: 2 to create, 1 to update, 0 to replace, 0 to delete, 3 unchanged; "
        "1 resource recreated"
    )
    assert lines[1:4] == [
        "  create  network:users",
        "  create  network:notify",
        "  update  service:user-service",
    ]
    assert lines[4] == "Deploy mesh shop to local? [y/N]: n"
    assert "not confirmed: nothing was changed" in result.stdout
    assert fakes.ran == []


def test_up_prompt_yes_deploys(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    at_terminal(monkeypatch)
    result = runner.invoke(app, ["up"], input="y\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert fakes.ran == ["up"]


def test_down_prompt_lists_what_it_deletes(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    at_terminal(monkeypatch)
    fakes.present = [
        NodeStatus(
            "service:user-service",
            "users",
            "meshlink-shop-service-user-service",
            "CREATE_COMPLETE",
            "done",
        ),
        NodeStatus("network:users", "users", None, "APPLIED", "done"),
    ]
    result = runner.invoke(app, ["down"], input="n\n", catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:4] == [
        "down will delete 2 nodes:",
        "  delete  service:user-service  meshlink-shop-service-user-service",
        "  delete  network:users",
        "Delete mesh shop from local? [y/N]: n",
    ]
    assert "nothing was changed" in result.stdout
    assert fakes.ran == []


def test_json_at_a_terminal_asks_on_stderr(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    at_terminal(monkeypatch)
    fakes.present = [NodeStatus("network:users", "users", None, "APPLIED", "done")]
    result = runner.invoke(app, ["--json", "down"], input="y\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Delete mesh shop from local? [y/N]" in result.stderr
    # CliRunner echoes the typed answer to stdout (a terminal would echo it itself).
    lines = [line for line in result.stdout.splitlines() if line.strip() != "y"]
    events = [json.loads(line) for line in lines]
    assert events[-1]["event"] == "summary"


def test_a_second_down_says_nothing_to_delete(fakes: Fakes) -> None:
    # What the network handler answers for a network that is not there (any node kind).
    fakes.down_outcome = Outcome("done", "network destroyed")
    result = runner.invoke(app, ["down", "--yes"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "done" not in result.stdout
    assert "not deployed" in result.stdout
    assert "down finished in 0.5s: nothing to delete (12 nodes not deployed)" in result.stdout

    result = runner.invoke(app, ["--json", "down", "--yes"], catch_exceptions=False)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    finished = [e for e in events if e["event"] == "finished"]
    assert {(e["status"], e["detail"]) for e in finished} == {("unchanged", "not deployed")}
    assert events[-1]["counts"] == {"unchanged": 12}
    assert events[-1]["summary"] == "nothing to delete (12 nodes not deployed)"


def test_down_counts_what_it_deleted(fakes: Fakes) -> None:
    fakes.present = [NodeStatus("network:users", "users", None, "APPLIED", "done")]
    fakes.down_outcome = Outcome("done", "network destroyed")
    result = runner.invoke(app, ["down", "--yes"], catch_exceptions=False)
    assert "down finished in 0.5s: 12 nodes: 1 done, 11 unchanged" in result.stdout
