"""graph --verify on the real local cloud: fresh after verify, stale after up, gone after down.

Each state is drawn in every format; the staleness comes from the journal the real
`up` and `down` wrote, not from a hand-made one (tests/functional/test_cli_graph.py
covers the exact texts).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

TOPOLOGY = """\
name: graphstale
region: us-east-1
target: local
network: { engine: cdk, az_count: 1, nat_gateways: none }
accounts:
  a: { id: "111111111111", vpc_cidr: 10.51.0.0/16 }
  b: { id: "222222222222", vpc_cidr: 10.52.0.0/16 }
services:
  alpha: { account: a, port: 8080, desired_count: 1, consumes: [beta] }
  beta: { account: b, port: 8081, desired_count: 1 }
"""
FORMATS = ("mermaid", "dot", "html")
MARK = {
    "mermaid": 'title: "WARNING: stale verify result',
    "dot": 'label="WARNING: stale verify result',
    "html": '<div class="notice" id="notice" role="alert"><strong>Warning: stale verify',
}


def drawn(path: Path) -> dict[str, tuple[str, str]]:
    """Per format, (stdout, stderr) of graph --verify; every one exits 0."""
    out: dict[str, tuple[str, str]] = {}
    for fmt in FORMATS:
        code, stdout, stderr = cli(path, "graph", "--verify", "--format", fmt)
        assert code == 0, stdout + stderr
        out[fmt] = (stdout, stderr)
    return out


def stale_json(path: Path) -> dict[str, object]:
    code, stdout, _ = cli(path, "--json", "graph", "--verify")
    assert code == 0
    verify: dict[str, object] = json.loads(stdout)["verify"]
    return verify


def test_fresh_then_stale_after_up_then_gone_after_down(
    local_cloud: LocalCloudInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
    monkeypatch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
    path = tmp_path / "mesh.yaml"
    path.write_text(TOPOLOGY)
    code, out, err = cli(path, "up", "--yes")
    assert code == 0, out + err
    try:
        code, out, err = cli(path, "verify", "--only", "control")
        assert code == 0, out + err
        for fmt, (text, stderr) in drawn(path).items():
            assert "stale verify result" not in text.lower() and stderr == "", fmt
        assert "n_alpha -->|pass| n_beta" in drawn(path)["mermaid"][0]
        assert stale_json(path)["stale"] is False

        # A second up (nothing to change) still finishes every node after the result.
        code, out, err = cli(path, "up", "--yes")
        assert code == 0, out + err
        for fmt, (text, stderr) in drawn(path).items():
            assert MARK[fmt] in text, fmt
            assert "`meshlink up` or `down` ran after verify" in text, fmt
            assert stderr.startswith("warning: stale verify result"), fmt
            assert "hint: run `meshlink verify`" in stderr, fmt
        newer = stale_json(path)
        assert newer["stale"] is True
        assert [r["code"] for r in newer["reasons"]] == ["journal-newer"]  # type: ignore[attr-defined]
        # verify again: fresh again.
        code, out, err = cli(path, "verify", "--only", "control")
        assert code == 0, out + err
        assert stale_json(path)["stale"] is False
    finally:
        code, out, err = cli(path, "down", "--yes")
    assert code == 0, out + err
    for fmt, (text, stderr) in drawn(path).items():
        assert MARK[fmt] in text, fmt
        assert "the mesh is no longer deployed" in text, fmt
        assert "hint: deploy it with `meshlink up`, then run `meshlink verify`" in stderr, fmt
    gone = stale_json(path)
    assert [r["code"] for r in gone["reasons"]] == ["not-deployed"]  # type: ignore[attr-defined]
