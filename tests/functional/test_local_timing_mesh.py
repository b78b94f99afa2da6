"""Both examples against a local cloud under AWS timing, through the real CLI.

``--timing aws --time-scale 0.02`` with eventual consistency: every stack is held in
progress for its critical path, NAT gateways, NLBs and endpoints pass through their
in-between states, tasks run and targets turn healthy only after their durations, and an
endpoint refuses traffic for a moment after it turns available. meshlink's waits
(acceptance, stability, verify) must cope with all of it, without a race.

On two-accounts, also the deadlines and plan's estimate: `up --timeout` gives up naming
what it awaited and its last state; `up` with the scaled deadlines converges, and so does
`verify --timeout`; `plan --json` carries the estimate, and the journal keeps the nodes'
timed changes. One timed local cloud serves the module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshlink.graph.journal import Journal, state_dir
from meshlink.localcloud.clock import Timing
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json, write_topology
from tests.helpers import running_local_cloud

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

SCALE = 0.02


@pytest.fixture(scope="module")
def timed_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudInfo]:
    """A local cloud under AWS timing (x0.02, consistency lag on) that `meshlink up` finds."""
    state = tmp_path_factory.mktemp("timed-mesh-cloud")
    with running_local_cloud(state, Timing("aws", SCALE, True)) as info:
        yield info


def test_plan_estimates_up_and_up_keeps_its_deadlines(
    timed_cloud: LocalCloudInfo, tmp_path: Path
) -> None:
    topology = write_topology(tmp_path, "two-accounts.yaml", "deadlines")

    code, plan = cli_json(topology, "plan")
    assert code == 0, plan
    estimate = plan["estimate"]
    path = estimate["critical_path"]
    assert path[0].startswith("network:") and path[-1].startswith("service:"), path
    assert estimate["basis"] == "durations table"
    assert estimate["seconds"] == pytest.approx(sum(estimate["nodes"][n] for n in path), abs=1)
    # an NLB (150 s) behind a NAT gateway (100 s), an endpoint (120 s), a task (40 s)
    # turning healthy (90 s): several minutes on AWS
    assert 400 < estimate["seconds"] < 900, estimate

    # A deadline shorter than a NAT gateway: up gives up, naming the wait and its state.
    code, out, err = cli(topology, "up", "--yes", "--timeout", "1")
    assert code == 1, out + err
    assert "gave up waiting for" in out + err and "last seen: " in out + err, out + err

    code, out, err = cli(topology, "up", "--yes")  # scaled deadlines: it all converges
    assert code == 0, out + err
    journal = Journal(state_dir(tmp_path, "deadlines", "local"))
    timed = {nid: r.measured for nid, r in journal.records.items() if r.measured}
    assert any(nid.startswith("service:") for nid in timed), timed
    for measure in timed.values():
        assert measure["time_scale"] == SCALE
        # seconds are kept to the millisecond, aws_seconds to the tenth: a node of a tenth
        # of a second differs by the rounding (0.0005 / SCALE + 0.05) more than by 1 %.
        expected = measure["seconds"] / SCALE
        assert measure["aws_seconds"] == pytest.approx(expected, rel=0.01, abs=0.1)

    code, report = cli_json(topology, "verify", "--timeout", "120")
    assert code == 0, json.dumps(report, indent=1)[:4000]

    code, out, err = cli(topology, "plan")  # the table's line: nothing left to do
    assert code == 0, out + err
    assert "up will change nothing: no time on AWS" in out, out

    code, out, err = cli(topology, "down", "--yes")
    assert code == 0, out + err


def test_up_verify_and_down_of_the_full_mesh_under_aws_timing(
    timed_cloud: LocalCloudInfo, tmp_path: Path
) -> None:
    topology = write_topology(tmp_path, "full-mesh-4.yaml", "timedmesh")
    code, out, err = cli(topology, "up", "--yes")
    assert code == 0, out + err
    code, report = cli_json(topology, "verify")
    assert code == 0, json.dumps(report, indent=1)[:4000]
    assert {e["state"] for e in report["edges"]} == {"pass"} and len(report["edges"]) == 12
    code, out, err = cli(topology, "down", "--yes")
    assert code == 0, out + err
