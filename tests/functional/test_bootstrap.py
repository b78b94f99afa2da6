"""`meshlink bootstrap` against the local cloud, and its policy held equal to what meshlink
calls: plan, up, status, verify and down of a mesh, recorded by the local cloud
(/_meshlink/api-calls), filtered by meshlink's session name (the Terraform provider
assumes the role under the same name, so its calls are in the record too).

One mesh is enough, and it is the one that reaches the most code: the examples make
the same calls (they differ in topology, not in code paths), so networking-account runs
through the Terraform engine with every AWS service endpoint: every resource of the
module (VPC, NAT gateway, flow logs and their role, interface and gateway endpoints, the
RAM share of its subnets) and every call meshlink makes for a per-account mesh, plus its
look for the participants' share invitations. (Recorded side by side, two-accounts with
the same endpoints added nothing to it.)
The CDK network engine's own calls and the template bucket's are recorded by
tests/functional/test_large_templates.py; paths no recording takes are bound to their
code by tests/unit/bootstrap/test_actions.py.

MESHLINK_REGENERATE_ACTIONS=1 rewrites actions.json's `direct` from the record (what it
holds that `conditional` does not).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory, session_name
from meshlink.bootstrap import derive
from meshlink.bootstrap.policy import NEEDS_NO_PERMISSION, load_actions
from meshlink.cli.app import app
from meshlink.engines.terraform.cli_config import ENV_MIRROR
from meshlink.localcloud import api_log
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import runner, write_topology
from tests.functional.terraform_support import real_mirror, require_aws_provider

REGENERATE = os.environ.get("MESHLINK_REGENERATE_ACTIONS") == "1"
OPERATOR = "bootstrap-test"
MESHLINK = str(Path(sys.executable).with_name("meshlink"))
# What a user runs: every command that reads or changes a mesh.
COMMANDS = (["plan"], ["up", "--yes"], ["status"], ["verify"], ["down", "--yes"])
# Through Terraform, with every resource its module can make.
EVERY_NETWORK_RESOURCE = {
    "  engine: auto\n": "  engine: terraform\n"
    "  aws_service_endpoints: [ecr.api, ecr.dkr, logs, s3, sts]\n"
}


def boot(topology: Path, *args: str) -> tuple[int, str, str]:
    """`meshlink -f TOPOLOGY bootstrap ARGS` (bootstrap keeps no state: no --workdir)."""
    result = runner.invoke(app, ["-f", str(topology), "bootstrap", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def boot_json(topology: Path, *args: str) -> tuple[int, Any]:
    result = runner.invoke(
        app, ["-f", str(topology), "--json", "bootstrap", *args], catch_exceptions=False
    )
    return result.exit_code, json.loads(result.stdout)


def _run_every_command(topology: Path, env: dict[str, str]) -> list[str]:
    """plan, up, status, verify, down as a user runs them: the CLI in its own process."""
    failures = []
    for command in COMMANDS:
        done = subprocess.run(
            [MESHLINK, "-f", str(topology), *command, "--workdir", str(topology.parent)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            failures.append(f"{topology.stem} {command[0]}: exit {done.returncode}\n{done.stderr}")
    return failures


# A mesh's whole life through Terraform: minutes on a loaded machine.
@pytest.mark.timeout(1200)
def test_the_deploy_role_allows_exactly_what_meshlink_calls(
    local_cloud: LocalCloudInfo, tmp_path: Path
) -> None:
    require_aws_provider()
    mesh = "boot-shared"
    topology = write_topology(tmp_path, "networking-account.yaml", mesh, **EVERY_NETWORK_RESOURCE)
    env = {
        **os.environ,
        "MESHLINK_OPERATOR": OPERATOR,
        # A plugin cache of its own (terraform_support): the suite's never holds the provider.
        "TF_PLUGIN_CACHE_DIR": str(tmp_path / "plugin-cache"),
    }
    mirror = real_mirror()
    if mirror is not None:
        env[ENV_MIRROR] = str(mirror)
    failures = _run_every_command(topology, env)
    assert failures == [], "\n".join(failures)

    record = api_log.fetch(local_cloud.endpoint_url)
    called = api_log.actions_of(record, f"/{session_name(mesh, OPERATOR)}")
    called -= NEEDS_NO_PERMISSION
    # The Terraform provider's calls are in (it assumes the role as meshlink does): the
    # VPC is made by it alone, its flow-log role through IAM, the subnet share through RAM.
    made_by_terraform = {"ec2:CreateVpc", "iam:CreateRole", "ram:CreateResourceShare"}
    assert made_by_terraform <= called, sorted(called)
    # Actions of paths a mesh takes only sometimes (a service not steady yet at a poll
    # lists its stopped tasks) may or may not be in the record: `conditional` holds them,
    # each bound to its caller (tests/unit/bootstrap/test_actions.py).
    conditional = load_actions().conditional_actions()
    if REGENERATE:
        derive.write(direct=sorted(called - conditional))
    direct = set(load_actions().direct)
    assert sorted(called - direct - conditional) == [], "called but not allowed"
    assert sorted(direct - called) == [], "allowed but never called"


def test_bootstrap_prints_a_template_per_account_trusting_the_operator(
    local_cloud: LocalCloudInfo, tmp_path: Path
) -> None:
    topology = write_topology(tmp_path, "two-accounts.yaml", "boot-print")
    code, document = boot_json(topology)
    assert code == 0
    assert document["applied"] is False
    by_account = {entry["account"]: entry for entry in document["accounts"]}
    assert sorted(by_account) == ["notify", "users"]
    users = by_account["users"]
    sts = SessionFactory("local", "us-east-1", local_cloud.endpoint_url).base_session()
    operator_arn = sts.client("sts", endpoint_url=local_cloud.endpoint_url).get_caller_identity()[
        "Arn"
    ]
    assert users["trust_principal"] == operator_arn
    assert users["role_arn"] == "arn:aws:iam::111111111111:role/MeshlinkDeploy"
    template = users["template"]
    trust = template["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"AWS": operator_arn}
    assert statement["Condition"] == {
        "StringLike": {"sts:RoleSessionName": "meshlink-boot-print-*"}
    }
    granted = [
        action
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    ]
    assert sorted(granted) == load_actions().iam_actions()

    code, document = boot_json(
        topology,
        "--account",
        "notify",
        "--trust-principal",
        "arn:aws:iam::999999999999:role/ops",
    )
    assert code == 0
    ((entry),) = document["accounts"]
    assert (entry["account"], entry["trust_principal"]) == (
        "notify",
        "arn:aws:iam::999999999999:role/ops",
    )

    code, _, stderr = boot(topology, "--trust-principal", "*")
    assert code == 2 and "not an IAM or STS principal ARN" in stderr
    code, _, stderr = boot(topology, "--account", "nope")
    assert code == 2 and "unknown account 'nope'" in stderr
    code, _, stderr = boot(topology, "--apply")
    assert code == 2 and "stdin is not a terminal" in stderr


def test_bootstrap_apply_creates_the_role_in_each_account(
    local_cloud: LocalCloudInfo, tmp_path: Path
) -> None:
    topology = write_topology(
        tmp_path, "two-accounts.yaml", "boot-apply", **{"role: MeshlinkDeploy": "role: BootApply"}
    )
    code, document = boot_json(
        topology,
        "--apply",
        "--yes",
        "--trust-principal",
        "arn:aws:iam::999999999999:user/ops",
    )
    assert code == 0
    assert document["applied"] is True
    assert {e["account"]: e["status"] for e in document["accounts"]} == {
        "users": "created",
        "notify": "created",
    }
    sessions = SessionFactory("local", "us-east-1", local_cloud.endpoint_url)
    iam = sessions.client("222222222222", "iam")
    role = iam.get_role(RoleName="BootApply")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::999999999999:user/ops"}
    attached = iam.list_attached_role_policies(RoleName="BootApply")["AttachedPolicies"]
    granted: set[str] = set()
    for policy in attached:
        version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        document_ = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)
        body = document_["PolicyVersion"]["Document"]
        body = json.loads(body) if isinstance(body, str) else body
        for statement in body["Statement"]:
            granted |= set(statement["Action"])
    assert sorted(granted) == load_actions().iam_actions()
    stack = sessions.client("222222222222", "cloudformation").describe_stacks(
        StackName="meshlink-boot-apply-bootstrap"
    )["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["RoleArn"] == role["Arn"]

    code, _, stderr = boot(topology)
    assert code == 0, stderr


@pytest.fixture(autouse=True)
def _operator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHLINK_OPERATOR", OPERATOR)
