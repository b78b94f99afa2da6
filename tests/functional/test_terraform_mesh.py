"""Both examples through the real hashicorp/aws provider against the local cloud.

`up` runs each account's network with Terraform (through a wrapper that logs every
Terraform command), `verify` passes, a no-op `up` runs no Terraform command, drift made
by hand is shown by `plan` and repaired by `up`, a failing apply names the HCL file and
line and `up` resumes once the cause is gone, and `down` leaves no stack, no resource in
Terraform state and no VPC. Engine parity: the CDK engine gives the same output contract
and the same verify result. Skipped, saying why, only when no provider can be had.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.engines.network_contract import NETWORK_OUTPUTS
from meshlink.engines.terraform.cli_config import ENV_MIRROR
from meshlink.engines.terraform.state import managed_resources
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import cli, cli_json, write_topology
from tests.functional.terraform_support import real_mirror, require_aws_provider

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]
USERS = "111111111111"
TERRAFORM = {"engine: auto": "engine: terraform"}


class Deployed:
    """A topology deployed with Terraform, the log of Terraform commands, boto3 clients."""

    def __init__(self, topology: Path, log: Path, sessions: SessionFactory) -> None:
        self.topology = topology
        self.log = log
        self.sessions = sessions

    def terraform_commands(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def journal(self) -> dict[str, Any]:
        name = self.topology.stem
        path = self.topology.parent / ".meshlink" / name / "local" / "journal.json"
        return dict(json.loads(path.read_text())["nodes"])

    def state_file(self, account: str) -> Path:
        name = self.topology.stem
        root = self.topology.parent / ".meshlink" / name / "local" / "terraform" / account
        return root / "terraform.tfstate"


def terraform_wrapper(directory: Path) -> tuple[Path, Path]:
    """An executable for MESHLINK_TERRAFORM that logs its arguments, then runs Terraform."""
    log = directory / "terraform-commands.log"
    script = directory / "terraform-logged"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        f'exec "{sys.executable}" -m meshlink.engines.terraform.worker "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


@pytest.fixture()
def env(local_cloud: LocalCloudInfo, tmp_path: Path) -> Iterator[tuple[Path, Path, SessionFactory]]:
    require_aws_provider()
    script, log = terraform_wrapper(tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESHLINK_STATE_DIR", str(local_cloud.state_dir))
        patch.setenv("MESHLINK_LOCAL_PORT", str(local_cloud.port))
        patch.setenv("MESHLINK_TERRAFORM", str(script))
        # A cache of its own: the suite's must not hold the provider, or every other
        # test's `engine: auto` would pick Terraform (terraform_support.set_aside).
        patch.setenv("TF_PLUGIN_CACHE_DIR", str(tmp_path / "plugin-cache"))
        mirror = real_mirror()
        if mirror is not None:
            patch.setenv(ENV_MIRROR, str(mirror))
        yield tmp_path, log, SessionFactory("local", "us-east-1", local_cloud.endpoint_url)


def verify_results(topology: Path) -> tuple[int, set[tuple[str, str, str]]]:
    """(check, subject, status) of every check; the mesh's name in a subject reads MESH.

    A CDK network is a stack (one more `stack.healthy` check per account), a Terraform
    network is not: those checks are left out so the two engines compare.
    """
    code, report = cli_json(topology, "verify")
    found = set()
    for check in report["checks"]:
        subject = check["subject"]["name"].replace(topology.stem, "MESH")
        if check["check"] == "stack.healthy" and "-network-" in subject:
            continue
        found.add((check["check"], subject, check["status"]))
    return code, found


def tagged_vpcs(sessions: SessionFactory, accounts: list[str], mesh: str) -> list[str]:
    tag = [{"Name": "tag:meshlink:mesh", "Values": [mesh]}]
    return [
        vpc["VpcId"]
        for account in accounts
        for vpc in sessions.client(account, "ec2").describe_vpcs(Filters=tag)["Vpcs"]
    ]


def assert_down_leaves_nothing(mesh: Deployed, accounts: dict[str, str]) -> None:
    code, summary = cli_json(mesh.topology, "down", "--yes")
    assert code == 0, summary
    name = mesh.topology.stem
    for account_id in accounts.values():
        stacks = mesh.sessions.client(account_id, "cloudformation").describe_stacks()["Stacks"]
        assert [
            s["StackName"] for s in stacks if s["StackName"].startswith(f"meshlink-{name}-")
        ] == []
    for key in accounts:
        assert list(managed_resources(mesh.state_file(key))) == []
    assert tagged_vpcs(mesh.sessions, list(accounts.values()), name) == []


def test_two_accounts_up_verify_noop_drift_parity_down(
    env: tuple[Path, Path, SessionFactory],
) -> None:
    workdir, log, sessions = env
    mesh = Deployed(
        write_topology(workdir, "two-accounts.yaml", "tfshop", **TERRAFORM), log, sessions
    )
    code, stdout, stderr = cli(mesh.topology, "up", "--yes")
    assert code == 0, stdout + stderr
    assert "network via terraform" in stdout
    commands = mesh.terraform_commands()
    assert sum(c.startswith("init") for c in commands) == 1  # one init per mesh
    assert sum(c.startswith("apply") for c in commands) == 2  # one apply per account
    assert not any(c.startswith("output") for c in commands)  # outputs come from state
    # Each apply attached to one provider process started for it (provider_server.py).
    provider_log = mesh.state_file("users").parent / ".terraform-provider.log"
    assert "TF_REATTACH_PROVIDERS=" in provider_log.read_text()
    code, verified = verify_results(mesh.topology)
    assert code == 0, verified

    # A no-op up starts no Terraform at all.
    before = len(mesh.terraform_commands())
    code, summary = cli_json(mesh.topology, "up", "--yes")
    assert code == 0 and summary["counts"] == {"unchanged": 12}
    assert len(mesh.terraform_commands()) == before

    # Drift by hand: a route and a subnet tag. plan shows the network node; up repairs it.
    ec2 = sessions.client(USERS, "ec2")
    resources = list(managed_resources(mesh.state_file("users")))
    route = next(r.attributes for r in resources if r.type == "aws_route")
    subnet = next(r.attributes for r in resources if r.type == "aws_subnet")
    ec2.delete_route(
        RouteTableId=route["route_table_id"], DestinationCidrBlock=route["destination_cidr_block"]
    )
    ec2.delete_tags(Resources=[subnet["id"]], Tags=[{"Key": "Name"}])
    code, plan = cli_json(mesh.topology, "plan")
    assert code == 0
    changed = {n["node"]: n for n in plan["nodes"] if n["action"] != "unchanged"}
    assert "network:users" in changed, plan["nodes"]
    detail = json.dumps(changed["network:users"])
    assert "missing" in detail and "tag Name removed" in detail
    assert "network:notify" not in changed
    code, summary = cli_json(mesh.topology, "up", "--yes")
    assert code == 0, summary
    assert summary["nodes"]["network:users"]["status"] == "done"
    tables = ec2.describe_route_tables(RouteTableIds=[route["route_table_id"]])["RouteTables"]
    assert any(
        r.get("DestinationCidrBlock") == route["destination_cidr_block"]
        for r in tables[0]["Routes"]
    )
    code, repaired = verify_results(mesh.topology)
    assert code == 0 and repaired == verified

    # Engine parity: the same topology through the CDK engine.
    cdk = write_topology(workdir, "two-accounts.yaml", "cdkshop", **{"engine: auto": "engine: cdk"})
    code, stdout, stderr = cli(cdk, "up", "--yes")
    assert code == 0, stdout + stderr
    cdk_mesh = Deployed(cdk, log, sessions)
    for node in ("network:users", "network:notify"):
        terraform_outputs = mesh.journal()[node]["outputs"]
        cdk_outputs = cdk_mesh.journal()[node]["outputs"]
        assert set(terraform_outputs) == set(cdk_outputs) == set(NETWORK_OUTPUTS)
        for key in NETWORK_OUTPUTS:
            assert type(terraform_outputs[key]) is type(cdk_outputs[key]), key
        assert terraform_outputs["az_ids"] == cdk_outputs["az_ids"]
        assert terraform_outputs["vpc_cidr"] == cdk_outputs["vpc_cidr"]
        assert len(terraform_outputs["private_subnet_ids"]) == len(
            cdk_outputs["private_subnet_ids"]
        )
    code, cdk_verified = verify_results(cdk)
    assert code == 0 and cdk_verified == verified
    code, _ = cli_json(cdk, "down", "--yes")
    assert code == 0

    assert_down_leaves_nothing(mesh, {"users": USERS, "notify": "222222222222"})


def test_full_mesh_failing_apply_names_the_hcl_line_then_resumes(
    env: tuple[Path, Path, SessionFactory],
) -> None:
    workdir, log, sessions = env
    topology = write_topology(
        workdir,
        "full-mesh-4.yaml",
        "tfmesh4",
        **{"  az_count: 2": "  engine: terraform\n  az_count: 2"},
    )
    mesh = Deployed(topology, log, sessions)
    # Something already holds a name the module creates: the apply of that account fails.
    logs = sessions.client("333333333333", "logs")
    logs.create_log_group(logGroupName="/meshlink/tfmesh4-shipping/vpc-flow-logs")
    code, stdout, stderr = cli(topology, "up", "--yes")
    assert code == 1, stdout + stderr
    assert "flow_logs.tf:" in stdout and "already exists" in stdout
    journal = mesh.journal()
    assert journal["network:shipping"]["status"] == "failed"
    assert journal["network:orders"]["status"] == "done"

    logs.delete_log_group(logGroupName="/meshlink/tfmesh4-shipping/vpc-flow-logs")
    code, summary = cli_json(topology, "up", "--yes")
    assert code == 0, summary
    assert summary["nodes"]["network:orders"]["status"] == "unchanged"
    assert summary["nodes"]["network:shipping"]["status"] == "done"
    code, verified = verify_results(topology)
    assert code == 0, sorted(v for v in verified if v[2] == "fail")
    accounts = {
        "orders": USERS,
        "payments": "222222222222",
        "shipping": "333333333333",
        "inventory": "444444444444",
    }
    assert_down_leaves_nothing(mesh, accounts)
