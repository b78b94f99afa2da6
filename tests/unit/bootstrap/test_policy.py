"""The deploy role's template: exact actions, limits, trust, and cfn-lint clean."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshlink.bootstrap.policy import (
    POLICY_CHARACTER_LIMIT,
    Actions,
    deploy_role_template,
    load_actions,
    role_name,
    trust_principal,
)
from meshlink.topology.model import Account, Topology

TOPOLOGY = Topology.model_validate(
    {
        "name": "shop",
        "accounts": {
            "users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"},
            "notify": {
                "id": "222222222222",
                "vpc_cidr": "10.2.0.0/16",
                "role": "arn:aws:iam::222222222222:role/Deployer",
            },
        },
        "services": {"a": {"account": "users", "port": 80}},
    }
)
OPERATOR = "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Admin_0123/ann@example.com"


def _policies(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"]


def test_the_policies_grant_exactly_the_actions_and_each_fits_a_managed_policy() -> None:
    template = deploy_role_template(TOPOLOGY, "users", OPERATOR)
    granted: list[str] = []
    for policy in _policies(template):
        document = policy["Properties"]["PolicyDocument"]
        assert len(json.dumps(document, separators=(",", ":"))) <= POLICY_CHARACTER_LIMIT
        (statement,) = document["Statement"]
        granted += statement["Action"]
        if all(a.startswith("iam:") for a in statement["Action"]):
            assert [r["Fn::Sub"].rsplit("/", 1)[-1] for r in statement["Resource"]] == [
                "meshlink-shop-*",
                "shop-*",
                "*",
            ]
        else:
            assert statement["Resource"] == "*"
            assert not any(a.startswith("iam:") for a in statement["Action"])
    assert sorted(granted) == load_actions().iam_actions()
    assert "sts:GetCallerIdentity" not in granted


def test_the_role_trusts_the_operator_for_this_mesh_s_sessions_only() -> None:
    role = deploy_role_template(TOPOLOGY, "notify", OPERATOR)["Resources"]["DeployRole"]
    assert role["Properties"]["RoleName"] == "Deployer"
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": OPERATOR}
    assert statement["Condition"] == {"StringLike": {"sts:RoleSessionName": "meshlink-shop-*"}}


def test_role_names_and_principals() -> None:
    assert role_name(Account(id="111111111111", vpc_cidr="10.1.0.0/16")) == "MeshlinkDeploy"
    assert (
        trust_principal("arn:aws:iam::111111111111:user/ann")
        == "arn:aws:iam::111111111111:user/ann"
    )
    for bad in ("*", "arn:aws:s3:::bucket", "111111111111"):
        with pytest.raises(ValueError, match="not an IAM or STS principal ARN"):
            trust_principal(bad)


def test_many_actions_split_into_several_policies() -> None:
    many = Actions(
        direct=tuple(f"ec2:Describe{i:04d}Things" for i in range(600)),
        on_behalf=("iam:PassRole",),
        resource_types=(),
    )
    policies = _policies(deploy_role_template(TOPOLOGY, "users", OPERATOR, many))
    assert len(policies) >= 4
    assert (
        sum(len(p["Properties"]["PolicyDocument"]["Statement"][0]["Action"]) for p in policies)
        == 601
    )


def test_cfn_lint_finds_nothing() -> None:
    from cfnlint.api import lint

    template = json.dumps(deploy_role_template(TOPOLOGY, "users", OPERATOR))
    assert [f"{m.rule.id} {m.message}" for m in lint(template, regions=["us-east-1"])] == []
