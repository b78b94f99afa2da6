"""`meshlink bootstrap` against the local cloud, and its policy held equal to what meshlink
calls: plan, up, status, verify and down of every example, recorded by the local cloud
(/_meshlink/api-calls), filtered by meshlink's session name.

MESHLINK_REGENERATE_ACTIONS=1 rewrites actions.json's `direct` from the record (what it
holds that `conditional` does not).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.bootstrap import derive
from meshlink.bootstrap.policy import NEEDS_NO_PERMISSION, load_actions
from meshlink.cli.app import app
from meshlink.localcloud import api_log
from meshlink.localcloud.info import LocalCloudInfo
from tests.functional.deploy_support import runner, write_topology
from tests.helpers import EXAMPLES

REGENERATE = os.environ.get("MESHLINK_REGENERATE_ACTIONS") == "1"
OPERATOR = "bootstrap-test"
MESHLINK = str(Path(sys.executable).with_name("meshlink"))
# What a user runs: every command that reads or changes a mesh.
COMMANDS = (["plan"], ["up", "--yes"], ["status"], ["verify"], ["down", "--yes"])


def _example(directory: Path, example: str, name: str) -> Path:
    """An example under a unique mesh name (the seed-format one converted first)."""
    if example.endswith(".json"):
        converted = directory / "converted.yaml"
        result = runner.invoke(
            app, ["convert", str(EXAMPLES / example), "-o", str(converted)], catch_exceptions=False
        )
        assert result.exit_code == 0, result.stderr
        text = converted.read_text()
        first = text.index("name: ")
        end = text.index("\n", first)
        path = directory / f"{name}.yaml"
        path.write_text(text[:first] + f"name: {name}" + text[end:])
        return path
    return write_topology(directory, example, name)


def boot(topology: Path, *args: str) -> tuple[int, str, str]:
    """`meshlink -f TOPOLOGY bootstrap ARGS` (bootstrap keeps no state: no --workdir)."""
    result = runner.invoke(app, ["-f", str(topology), "bootstrap", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def boot_json(topology: Path, *args: str) -> tuple[int, Any]:
    result = runner.invoke(
        app, ["-f", str(topology), "--json", "bootstrap", *args], catch_exceptions=False
    )
    return result.exit_code, json.loads(result.stdout)


def _run_every_command(topology: Path) -> list[str]:
    """plan, up, status, verify, down as a user runs them: the CLI in its own process."""
    failures = []
    env = {**os.environ, "MESHLINK_OPERATOR": OPERATOR}
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


# Three meshes' whole lives side by side: minutes, not the suite's default ten.
@pytest.mark.timeout(1500)
def test_the_deploy_role_allows_exactly_what_meshlink_calls(
    local_cloud: LocalCloudInfo, tmp_path: Path
) -> None:
    examples = {
        "boot-two": "two-accounts.yaml",
        "boot-four": "full-mesh-4.yaml",
        "boot-blog": "blog-config.json",
    }
    topologies = []
    for name, example in examples.items():
        (tmp_path / name).mkdir()
        topologies.append(_example(tmp_path / name, example, name))
    # The meshes are independent: they run side by side, as three operators would.
    with ThreadPoolExecutor(max_workers=len(topologies)) as pool:
        failures = [f for found in pool.map(_run_every_command, topologies) for f in found]
    assert failures == [], "\n".join(failures)

    record = api_log.fetch(local_cloud.endpoint_url)
    called: set[str] = set()
    for name in examples:
        actions = api_log.actions_of(record, f"/meshlink-{name}-{OPERATOR}")
        assert actions, f"no call recorded for {name}"
        called |= actions
    called -= NEEDS_NO_PERMISSION
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
