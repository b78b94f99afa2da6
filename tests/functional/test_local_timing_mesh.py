"""`up` + `verify` of examples/two-accounts.yaml against a local cloud under AWS timing.

``--timing aws --time-scale 0.02`` with eventual consistency: every stack is held
in progress for its critical path, NAT gateways, NLBs and endpoints pass through their
in-between states, tasks run and targets turn healthy only after their durations, and
an endpoint refuses traffic for a moment after it turns available. meshlink's waits
(acceptance, stability, verify) must cope with all of it, without a race.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshlink.localcloud import daemon
from meshlink.localcloud.clock import Timing
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json, write_topology

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

SCALE = 0.02


@pytest.fixture(scope="module")
def timed_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudInfo]:
    """A local cloud under AWS timing that `meshlink up` finds (its state dir and port)."""
    state: Path = tmp_path_factory.mktemp("timed-mesh-cloud")
    info = daemon.start(port=0, state_dir=state, timing=Timing("aws", SCALE, True))
    saved = {k: os.environ.get(k) for k in ("MESHLINK_STATE_DIR", "MESHLINK_LOCAL_PORT")}
    os.environ["MESHLINK_STATE_DIR"] = str(state)
    os.environ["MESHLINK_LOCAL_PORT"] = str(info.port)
    try:
        yield info
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        daemon.stop(state)


def test_up_and_verify_two_accounts_under_aws_timing(
    timed_cloud: LocalCloudInfo, tmp_path: Path
) -> None:
    topology = write_topology(tmp_path, "two-accounts.yaml", "timedshop")
    code, out, err = cli(topology, "up", "--yes")
    assert code == 0, out + err
    code, report = cli_json(topology, "verify")
    assert code == 0, json.dumps(report, indent=1)[:4000]
    code, out, err = cli(topology, "down", "--yes")
    assert code == 0, out + err
