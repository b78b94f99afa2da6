"""TerraformNetworkEngine's use of the mesh's zone ids (Terraform itself replaced by a double).

The same flow against real Terraform (root written with az_ids before init fails for
want of the provider) is in tests/functional/test_terraform_module.py.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from meshlink.engines.network_contract import NETWORK_OUTPUTS
from meshlink.engines.terraform.engine import TerraformNetworkEngine
from meshlink.engines.terraform.events import ChangeSummary
from meshlink.errors import DeployError, EnvironmentProblem
from meshlink.topology.model import Topology

ZONES = ["use1-az4", "use1-az6"]


def topology() -> Topology:
    return Topology.model_validate(
        {
            "name": "shop",
            "region": "us-east-1",
            "network": {"az_count": 2},
            "accounts": {
                "users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"},
                "notify": {"id": "222222222222", "vpc_cidr": "10.2.0.0/16"},
            },
            "services": {"svc": {"account": "users", "port": 8080}},
        }
    )


class FakeRunner:
    """Stands in for TerraformRunner: records the commands, writes what Terraform would."""

    def __init__(self, account: str, workdir: Path, calls: list[tuple[str, str]]):
        self.account = account
        self.workdir = workdir
        self.calls = calls

    def init(self) -> None:
        self.calls.append((self.account, "init"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / ".terraform.lock.hcl").write_text("# lock\n")

    def plan(self, *, out: str | None = "tfplan") -> ChangeSummary:
        self.calls.append((self.account, "plan"))
        return ChangeSummary(self.account, "plan", add=3)

    def apply(self) -> ChangeSummary:
        self.calls.append((self.account, "apply"))
        outputs = {name: {"value": value} for name, value in self.output().items()}
        self.calls.pop()  # written as state, not asked for
        (self.workdir / "terraform.tfstate").write_text(json.dumps({"outputs": outputs}))
        return ChangeSummary(self.account, "apply", add=3)

    def destroy(self) -> ChangeSummary:
        self.calls.append((self.account, "destroy"))
        return ChangeSummary(self.account, "destroy", destroy=3)

    def output(self) -> dict[str, object]:
        self.calls.append((self.account, "output"))
        return {name: ZONES if name == "az_ids" else "x" for name in NETWORK_OUTPUTS}


class Engine(TerraformNetworkEngine):
    def __init__(self, project_dir: Path, zone_ids: Any = None):
        super().__init__(topology(), project_dir=project_dir, zone_ids=zone_ids)
        self.calls: list[tuple[str, str]] = []

    def runner(self, account: str) -> Any:
        return FakeRunner(account, self.workdir(account), self.calls)


class CountingZones:
    def __init__(self, zones: list[str]):
        self.zones = zones
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self) -> list[str]:
        with self.lock:
            self.count += 1
        return self.zones


def module_call(engine: TerraformNetworkEngine, account: str) -> dict[str, Any]:
    root = json.loads((engine.workdir(account) / "main.tf.json").read_text())
    return root["module"]["network"]  # type: ignore[no-any-return]


def test_apply_and_plan_put_the_callables_zone_ids_in_every_root(tmp_path: Path) -> None:
    zones = CountingZones(ZONES)
    engine = Engine(tmp_path, zones)
    assert zones.count == 0  # lazily: building the engine looks nothing up
    applied = engine.apply_all()
    assert module_call(engine, "users")["az_ids"] == ZONES
    assert module_call(engine, "notify")["az_ids"] == ZONES
    assert applied["users"]["az_ids"] == ZONES
    engine.plan("notify")
    assert zones.count == 1  # once per engine, however many accounts and commands
    assert ("notify", "plan") in engine.calls


def test_plan_alone_resolves_the_zone_ids(tmp_path: Path) -> None:
    zones = CountingZones(["use1-az1", "use1-az2"])
    engine = Engine(tmp_path, zones)
    engine.plan_all()
    assert zones.count == 1
    assert module_call(engine, "users")["az_ids"] == ["use1-az1", "use1-az2"]


def test_destroy_and_outputs_never_call_it_and_keep_the_written_zone_ids(tmp_path: Path) -> None:
    first = Engine(tmp_path, CountingZones(ZONES))
    first.apply_all()
    root = first.workdir("users") / "main.tf.json"
    written = root.read_text()

    def forbidden() -> list[str]:
        raise AssertionError("destroy/outputs must not look the zone ids up")

    engine = Engine(tmp_path, forbidden)
    assert engine.outputs("users")["az_ids"] == ZONES
    assert root.read_text() == written  # the root is not rewritten without its az_ids
    assert engine.destroy_all()["users"].destroy == 3
    assert root.read_text() == written
    # Outputs come from the state file: no Terraform command, no provider start.
    assert [c for _, c in engine.calls] == ["destroy", "destroy"]


def test_destroy_and_outputs_of_a_root_without_zone_ids(tmp_path: Path) -> None:
    Engine(tmp_path).apply("users")
    assert "az_ids" not in module_call(Engine(tmp_path), "users")
    engine = Engine(tmp_path, CountingZones(ZONES))
    engine.outputs("users")
    engine.destroy("users")
    assert "az_ids" not in module_call(engine, "users")


def test_without_a_callable_the_root_has_no_az_ids(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    engine.apply("users")
    assert "az_ids" not in module_call(engine, "users")
    assert engine.mesh_zone_ids() is None


def test_a_failing_lookup_stops_the_run_before_terraform_runs(tmp_path: Path) -> None:
    def no_shared_zones() -> list[str]:
        raise EnvironmentProblem("the accounts share 0 availability zone ids")

    engine = Engine(tmp_path, no_shared_zones)
    with pytest.raises(EnvironmentProblem):
        engine.apply_all()
    assert engine.calls == []
    assert not (engine.workdir("users") / "main.tf.json").exists()


def test_one_init_per_mesh_and_every_root_gets_its_lock_file(tmp_path: Path) -> None:
    engine = Engine(tmp_path, CountingZones(ZONES))
    engine.apply_all()
    assert [call for call in engine.calls if call[1] == "init"] == [(".shared", "init")]
    for account in ("users", "notify"):
        assert (engine.workdir(account) / ".terraform.lock.hcl").read_text() == "# lock\n"
    # A new run with nothing changed does not init again.
    again = Engine(tmp_path, CountingZones(ZONES))
    again.plan_all()
    assert [c for _, c in again.calls] == ["plan", "plan"]


def test_a_changed_module_tree_inits_again(tmp_path: Path) -> None:
    engine = Engine(tmp_path, CountingZones(ZONES))
    engine.apply("users")
    later = Engine(tmp_path, CountingZones(ZONES))
    later.module_tree_digest = lambda: "changed"  # type: ignore[method-assign]
    later.plan("users")
    assert later.calls[0] == (".shared", "init")


def test_outputs_need_no_terraform_and_fail_plainly_before_apply(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    with pytest.raises(DeployError, match="has no network outputs"):
        engine.outputs("users")
    engine.apply("users")
    engine.calls.clear()
    assert engine.outputs("users")["az_ids"] == ZONES
    assert engine.calls == []
