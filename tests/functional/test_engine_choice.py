"""network.engine: terraform | cdk | auto, decided with real Terraform (no network needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.deploy.engine_choice import choose_network_engine
from meshlink.deploy.runtime import MeshRuntime, RunOptions
from meshlink.engines.terraform.cli_config import ENV_MIRROR, terraform_platform
from meshlink.errors import EnvironmentProblem
from meshlink.topology.model import Topology
from tests.functional.terraform_support import real_mirror, require_aws_provider
from tests.functional.test_terraform_module import offline_cli_config


class NoSessions:
    """Engine choice must not need AWS: any client request is a test failure."""

    def client(self, account_id: str, service: str) -> Any:
        raise AssertionError(f"unexpected AWS call: {service} in {account_id}")


def runtime(tmp_path: Path, engine: str) -> tuple[MeshRuntime, list[str]]:
    topology = Topology.model_validate(
        {
            "name": "choice",
            "network": {"engine": engine},
            "accounts": {"users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"}},
            "services": {"svc": {"account": "users", "port": 80}},
        }
    )
    notices: list[str] = []
    built = MeshRuntime(
        topology, RunOptions(workdir=tmp_path), sessions=NoSessions(), notice=notices.append
    )
    return built, notices


def test_terraform_without_its_provider_is_an_environment_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_cli_config(tmp_path, monkeypatch)
    mesh, _ = runtime(tmp_path, "terraform")
    with pytest.raises(EnvironmentProblem) as caught:
        choose_network_engine(mesh)
    assert caught.value.exit_code == 3
    assert "hashicorp/aws provider cannot be had" in caught.value.message
    assert caught.value.hint is not None and "network.engine: cdk" in caught.value.hint


def test_auto_falls_back_to_cdk_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_cli_config(tmp_path, monkeypatch)
    mesh, notices = runtime(tmp_path, "auto")
    assert choose_network_engine(mesh).name == "cdk"
    (notice,) = notices
    assert notice.startswith("network engine: cdk (Terraform's aws provider is unavailable: ")


def test_auto_prefers_terraform_when_a_mirror_holds_the_real_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_aws_provider()
    mirror = real_mirror()
    if mirror is None:
        pytest.skip(f"needs the provider in a mirror named by {ENV_MIRROR}")
    offline_cli_config(tmp_path, monkeypatch)
    monkeypatch.setenv(ENV_MIRROR, str(mirror))
    mesh, notices = runtime(tmp_path, "auto")
    assert choose_network_engine(mesh).name == "terraform"
    found = f"hashicorp/aws found in the {ENV_MIRROR} {mirror}"
    assert notices == [f"network engine: terraform ({found})"]


def test_a_found_provider_that_init_cannot_install_falls_back_to_cdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug: detection found hashicorp/aws, then every init failed offline."""
    mirror = offline_cli_config(tmp_path, monkeypatch)
    # A version directory with no provider binary in it: found, but not installable.
    (mirror / "registry.terraform.io/hashicorp/aws/5.99.0" / terraform_platform()).mkdir(
        parents=True
    )
    mesh, notices = runtime(tmp_path, "auto")
    assert choose_network_engine(mesh).name == "cdk"
    (notice,) = notices
    assert notice.startswith("network engine: cdk (Terraform's aws provider is unavailable: ")
    assert "terraform init" in notice


def test_a_deployed_mesh_keeps_the_engine_that_deployed_it(tmp_path: Path) -> None:
    mesh, notices = runtime(tmp_path, "auto")
    mesh.journal.update("network:users", status="done", parameters={"engine": "cdk"})
    assert choose_network_engine(mesh, mesh.deployed_engine()).name == "cdk"
    assert notices == []  # no provider probe at all


def test_switching_the_engine_of_a_deployed_mesh_is_refused(tmp_path: Path) -> None:
    from meshlink.errors import UsageError

    mesh, _ = runtime(tmp_path, "terraform")
    mesh.journal.update("network:users", status="done", parameters={"engine": "cdk"})
    with pytest.raises(UsageError) as caught:
        choose_network_engine(mesh, mesh.deployed_engine())
    assert caught.value.message == (
        "the networks were deployed with cdk, but network.engine is now terraform"
    )
