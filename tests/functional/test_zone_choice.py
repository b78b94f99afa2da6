"""The mesh's zone ids are chosen once and kept; an account lacking one is an error.

Against the local cloud's per-account zone shuffle (patches/zones.py) and its zone
offerings (patches/zone_offerings.py: an account can be denied a zone, as on AWS):
`up --only network` of accounts a and b records the zone ids (zones.json); adding an
account c that lacks one of them makes `plan` and `up` exit 2 naming c and the zone,
touching nothing. An account d that lacks only a zone the mesh does not use joins, and
a's and b's networks stay unchanged. With the journal and zones.json lost, the zone ids
are read back from the live networks and c is still refused.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]

ACCOUNTS = {"a": "641111111111", "b": "642222222222", "c": "643333333333", "d": "644444444444"}
CIDRS = {"a": "10.41.0.0/24", "b": "10.42.0.0/24", "c": "10.43.0.0/24", "d": "10.44.0.0/24"}


def topology(directory: Path, accounts: list[str]) -> Path:
    lines = [
        "name: zonechoice",
        "region: us-east-1",
        "target: local",
        "network: { engine: cdk, az_count: 2, nat_gateways: none, flow_logs: false }",
        "accounts:",
        *(f'  {k}: {{ id: "{ACCOUNTS[k]}", vpc_cidr: {CIDRS[k]} }}' for k in accounts),
        "services:",
        "  web: { account: a, port: 8080, desired_count: 1 }",
    ]
    path = directory / "zonechoice.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def withhold(cloud: LocalCloudInfo, account: str, zone_ids: list[str]) -> None:
    body = json.dumps({"account_id": account, "region": "us-east-1", "withheld": zone_ids})
    request = urllib.request.Request(
        f"{cloud.endpoint_url}/_meshlink/zones", data=body.encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        withheld = json.loads(answer.read())["withheld"]
    assert withheld.get(account, {}).get("us-east-1", []) == sorted(zone_ids)


def subnet_zones(sessions: SessionFactory, account: str) -> dict[str, str]:
    """subnet id -> zone id of every subnet meshlink made in the account."""
    subnets = sessions.client(account, "ec2").describe_subnets(
        Filters=[{"Name": "tag-key", "Values": ["meshlink:tier"]}]
    )["Subnets"]
    return {s["SubnetId"]: s["AvailabilityZoneId"] for s in subnets}


@pytest.fixture()
def workdir(local_cloud: LocalCloudInfo, tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for account in ("c", "d"):
        withhold(local_cloud, ACCOUNTS[account], [])
    path = topology(tmp_path, ["a", "b", "d"])
    code, out, err = cli(path, "down", "--yes")
    assert code == 0, out + err


def plan_actions(path: Path) -> dict[str, Any]:
    code, plan = cli_json(path, "plan", "--only", "network")
    assert code == 0, plan
    return {n["node"]: n["action"] for n in plan["nodes"]}


def test_zone_ids_are_kept_and_an_account_lacking_one_is_refused(
    local_cloud: LocalCloudInfo, workdir: Path
) -> None:
    sessions = SessionFactory("local", "us-east-1", local_cloud.endpoint_url)
    path = topology(workdir, ["a", "b"])
    code, out, err = cli(path, "up", "--yes", "--only", "network")
    assert code == 0, out + err
    zones_file = workdir / ".meshlink" / "zonechoice" / "local" / "zones.json"
    chosen = json.loads(zones_file.read_text())["zone_ids"]
    assert len(chosen) == 2
    before = {k: subnet_zones(sessions, ACCOUNTS[k]) for k in ("a", "b")}
    assert all(set(z.values()) == set(chosen) for z in before.values())

    # c is not offered the first chosen zone: recomputing would move every VPC.
    withhold(local_cloud, ACCOUNTS["c"], [chosen[0]])
    grown = topology(workdir, ["a", "b", "c"])
    for command in (("plan",), ("up", "--yes")):
        code, out, err = cli(grown, *command, "--only", "network")
        assert code == 2, out + err
        assert f"account c does not offer {chosen[0]}" in err
        assert "remove account c" in err
    assert subnet_zones(sessions, ACCOUNTS["c"]) == {}  # nothing touched
    assert json.loads(zones_file.read_text())["zone_ids"] == chosen

    # d lacks only a zone the mesh does not use: it joins, a and b do not move.
    unused = next(z for z in ("use1-az1", "use1-az2", "use1-az3") if z not in chosen)
    withhold(local_cloud, ACCOUNTS["d"], [unused])
    joined = topology(workdir, ["a", "b", "d"])
    actions = plan_actions(joined)
    assert actions["network:d"] == "create"
    assert actions["network:a"] == actions["network:b"] == "unchanged", actions
    code, out, err = cli(joined, "up", "--yes", "--only", "network")
    assert code == 0, out + err
    assert set(subnet_zones(sessions, ACCOUNTS["d"]).values()) == set(chosen)
    assert {k: subnet_zones(sessions, ACCOUNTS[k]) for k in ("a", "b")} == before
    assert json.loads(zones_file.read_text())["zone_ids"] == chosen

    # Journal and record lost: the zone ids come back from the live networks.
    zones_file.unlink()
    (zones_file.parent / "journal.json").unlink()
    grown = topology(workdir, ["a", "b", "c"])
    code, out, err = cli(grown, "plan", "--only", "network")
    assert code == 2, out + err
    assert f"account c does not offer {chosen[0]}" in err
