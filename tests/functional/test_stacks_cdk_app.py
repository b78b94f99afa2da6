"""cdk/app.py: the CDK CLI synthesizes exactly the stacks meshlink synthesizes in-process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meshlink.engines.cdk.synth import synth
from meshlink.stacks.mesh import mesh_builder
from meshlink.topology.loader import load_topology
from tests.helpers import EXAMPLES, REPO

CDK_DIR = REPO / "cdk"
TWO = EXAMPLES / "two-accounts.yaml"

pytestmark = pytest.mark.slow


def _comparable(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what only the CDK CLI adds (construct paths, CDK metadata)."""
    template = json.loads(json.dumps(template))
    template.get("Parameters", {}).pop("BootstrapVersion", None)
    template.pop("Conditions", None)
    template.pop("Rules", None)
    resources = template["Resources"]
    for logical_id in [k for k, v in resources.items() if v["Type"] == "AWS::CDK::Metadata"]:
        del resources[logical_id]
    for resource in resources.values():
        metadata = resource.get("Metadata", {})
        metadata.pop("aws:cdk:path", None)
        if not metadata:
            resource.pop("Metadata", None)
    return template


def _assembly_templates(outdir: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    templates = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] == "aws:cloudformation:stack":
            name = artifact["properties"].get("stackName")
            template_file = artifact["properties"]["templateFile"]
            templates[name] = json.loads((outdir / template_file).read_text())
    return templates


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    cache = tmp_path_factory.mktemp("synth-cache")
    result = synth(mesh_builder(load_topology(TWO)), key="two-accounts", cache_dir=cache)
    return {name: _comparable(t) for name, t in result.templates.items()}


def _run_app(outdir: Path, context: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The CDK CLI's protocol with an app: the output folder and context in the environment.
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=CDK_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_app_synthesizes_the_same_templates_as_meshlink(
    tmp_path: Path, in_process: dict[str, dict[str, Any]]
) -> None:
    result = _run_app(tmp_path, {"topology": "../examples/two-accounts.yaml"})
    assert result.returncode == 0, result.stderr
    templates = {n: _comparable(t) for n, t in _assembly_templates(tmp_path).items()}
    assert sorted(templates) == sorted(in_process)
    assert len(templates) == 10
    assert templates == in_process


def test_app_without_a_topology_says_how_to_pass_one(tmp_path: Path) -> None:
    result = _run_app(tmp_path, {})
    assert result.returncode == 2
    assert "-c topology=" in result.stderr


def test_app_reports_a_missing_topology_file(tmp_path: Path) -> None:
    result = _run_app(tmp_path, {"topology": "../examples/nope.yaml"})
    assert result.returncode == 2
    assert "nope.yaml does not exist" in result.stderr


@pytest.mark.skipif(shutil.which("npx") is None, reason="needs Node's npx")
def test_cdk_cli_synth(tmp_path: Path, in_process: dict[str, dict[str, Any]]) -> None:
    # cdk.json runs `python3 app.py`: put this interpreter's folder first on PATH.
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        ["npx", "--yes", "aws-cdk@2", "synth", "-q", "--no-notices", "--output", str(outdir),
         "-c", f"topology={TWO}"],
        cwd=CDK_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )  # fmt: skip
    if result.returncode != 0 and "ENOTFOUND" in result.stderr + result.stdout:
        pytest.skip("the npm registry is unreachable: cannot fetch the aws-cdk CLI")
    assert result.returncode == 0, result.stderr
    templates = {n: _comparable(t) for n, t in _assembly_templates(outdir).items()}
    assert templates == in_process
