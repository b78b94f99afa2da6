"""The shared provider process: finding its binary and reading its reattach address."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from meshlink.engines.terraform.cli_config import terraform_platform
from meshlink.engines.terraform.provider_server import (
    provider_binary,
    reattach_config,
    shared_provider,
)

CONFIG = {"registry.terraform.io/hashicorp/aws": {"Protocol": "grpc", "Pid": 1}}
PRINTED = (
    "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment "
    f"variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{json.dumps(CONFIG)}'\n"
)


def test_the_reattach_value_is_read_once_printed_whole() -> None:
    assert reattach_config("Starting ...\n") is None
    assert json.loads(reattach_config(PRINTED) or "") == CONFIG
    with pytest.raises(ValueError):
        reattach_config(PRINTED[: PRINTED.index("grpc")] + "'")


def test_the_binary_is_found_in_the_data_dir(tmp_path: Path) -> None:
    assert provider_binary(tmp_path) is None
    folder = tmp_path / "providers/registry.terraform.io/hashicorp/aws/5.100.0"
    (folder / terraform_platform()).mkdir(parents=True)
    binary = folder / terraform_platform() / "terraform-provider-aws_v5.100.0_x5"
    binary.write_text("")
    assert provider_binary(tmp_path) == binary


def fake_provider(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "terraform-provider-aws_v5.100.0_x5"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    script.chmod(0o755)
    return script


def test_a_provider_that_prints_its_address_is_shared_then_stopped(tmp_path: Path) -> None:
    script = fake_provider(
        tmp_path, f"print({PRINTED!r}, flush=True)\nassert sys.argv[1] == '-debug'\ntime.sleep(60)"
    )
    with shared_provider(script, {}, tmp_path / "provider.log", timeout=20) as config:
        assert config is not None and json.loads(config) == CONFIG
    # Stopped at the end of the command: nothing is left running.
    from meshlink import subprocess_runner

    assert subprocess_runner.interrupt_all() == 0


def test_a_provider_that_dies_leaves_terraform_to_start_its_own(tmp_path: Path) -> None:
    script = fake_provider(tmp_path, "print('no debug mode here'); sys.exit(1)")
    with shared_provider(script, {}, tmp_path / "provider.log", timeout=20) as config:
        assert config is None
