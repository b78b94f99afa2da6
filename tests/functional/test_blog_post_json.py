"""The blog post's JSON config, exactly as printed, deploys and verifies on the local cloud.

The file names no accounts, one microservice, and a consumed service that is not in the
file. meshlink infers an account per microservice, a VPC CIDR each, and a stand-in for the
missing service (no endpoint service vpce-svc-12345678 exists on the local cloud); `up`
says so, `verify` proves every edge, `down` leaves nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json
from tests.helpers import EXAMPLES

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]


def test_the_blog_json_as_printed_goes_up_verifies_and_comes_down(
    local_cloud: LocalCloudInfo, tmp_path: Path
) -> None:
    topology = tmp_path / "blogjson.json"
    shutil.copy(EXAMPLES / "blog-post.json", topology)

    code, stdout, stderr = cli(topology, "up", "--yes")
    assert code == 0, stdout + stderr
    assert f"{topology}:8:9: note: 'notification-service' names no microservice" in stderr
    assert "note: microservice 'user-service' runs in an account of its own" in stderr

    code, report = cli_json(topology, "verify")
    assert code == 0, json.dumps([c for c in report["checks"] if c["status"] == "fail"])
    passed = {(c["check"], c["subject"]["name"]) for c in report["checks"] if c["status"] == "pass"}
    assert ("traffic.positive", "user-service->notification-service") in passed

    code, stdout, stderr = cli(topology, "down", "--yes")
    assert code == 0, stdout + stderr
    code, stdout, stderr = cli(topology, "down", "--yes")
    assert code == 0 and "nothing to delete" in stdout + stderr, stdout + stderr
