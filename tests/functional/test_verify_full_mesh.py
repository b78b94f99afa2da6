"""examples/full-mesh-4.yaml on the real local cloud: every check and every probe passes.

Four accounts whose zone names map to different zone ids, 12 edges, acceptance on one
provider: the example a user runs first must verify green, and its graph draws green.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshlink.cli.app import app
from meshlink.localcloud.info import LocalCloudInfo
from tests.helpers import EXAMPLES

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

runner = CliRunner()


def cli(path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["-f", str(path), *args, "--workdir", str(path.parent)], catch_exceptions=False
    )
    return result.exit_code, result.stdout


def test_full_mesh_example_verifies_green(
    local_cloud: LocalCloudInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
    path = tmp_path / "mesh.yaml"
    path.write_text(
        (EXAMPLES / "full-mesh-4.yaml").read_text().replace("name: mesh4", "name: vfy4")
    )
    code, out = cli(path, "up", "--yes")
    assert code == 0, out
    try:
        code, out = cli(path, "--json", "verify", "--deep")
        report = json.loads(out)
        assert code == 0, [c for c in report["checks"] if c["status"] != "pass"]
        assert report["summary"]["probes"] == 12
        assert len(report["edges"]) == 12
        assert {e["state"] for e in report["edges"]} == {"pass"}
        # Endpoints sit only in zones the provider serves, compared by zone id.
        for check in report["checks"]:
            if check["check"] == "endpoint.zones":
                evidence = check["evidence"]
                zones = set(evidence["endpoint_subnet_zone_ids"].values())
                assert zones and zones <= set(evidence["service_zone_ids"])
        code, drawn = cli(path, "graph", "--verify")
        assert code == 0
        assert drawn.count("|pass|") == 12
    finally:
        cli(path, "down", "--yes")
