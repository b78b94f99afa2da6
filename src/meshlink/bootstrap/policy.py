"""The deploy role's CloudFormation template: trust, and exactly the actions meshlink uses.

Three lists, all in ``actions.json`` beside this module:

* ``direct``: every IAM action meshlink's own calls need on the paths every mesh takes
  (plan, up, status, verify and down), as the local cloud recorded them
  (``/_meshlink/api-calls``), the Terraform provider's included (it assumes the role with
  meshlink's session name); tests/functional/test_bootstrap.py holds the list equal to
  the record (less what ``conditional`` lists).
* ``conditional``: what meshlink calls only on some paths (a service not steady yet at a
  poll, a template over 51,200 bytes, ``verify --probe-image``, drift repair, ``target:
  aws`` only, ...). Each entry names the call (``service.method``), the function that
  makes it and when; an action a call needs besides its own (CreateBucket with
  ObjectOwnership needs s3:PutBucketOwnershipControls) says so with the AWS page.
  tests/unit/bootstrap binds each entry to its code and checks that every AWS call in
  meshlink's source is in ``direct`` or here; recordings prove the paths tests exercise.
* ``on_behalf``: what CloudFormation does with the *caller's* credentials. meshlink
  deploys by change set without a service role, so CloudFormation creates, updates and
  deletes the stacks' resources as the deploy role
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
  Derived from the resource provider schemas' handler permissions of every resource
  type meshlink's templates hold (``derive.py``; tests/unit/bootstrap holds it equal).

``sts:GetCallerIdentity`` is recorded but needs no permission (AWS allows it always).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from meshlink.topology.model import Account, Topology
from meshlink.topology.naming import default_role_arn

DATA_FILE = "actions.json"
# Allowed whatever the policy says: listing it would be noise.
NEEDS_NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})
# Managed policy documents hold at most 6,144 characters, whitespace excluded
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
POLICY_CHARACTER_LIMIT = 6144
POLICY_BUDGET = 5800  # room for the statement's Sid, Effect, Resource and brackets
MAX_SESSION_SECONDS = 3600


@dataclass(frozen=True)
class Conditional:
    """An action meshlink calls only on some paths: which call, where, and when."""

    action: str
    call: str  # boto3 `service.method`, e.g. "ecs.list_tasks"
    caller: str  # `module::function` (or `module::Class.method`) that makes the call
    when: str
    implied: str | None = None  # AWS page: the call needs this action besides its own


@dataclass(frozen=True)
class Actions:
    """The data file: meshlink's own actions (always, or on some paths), and
    CloudFormation's on its behalf."""

    direct: tuple[str, ...]
    on_behalf: tuple[str, ...]
    resource_types: tuple[str, ...]
    conditional: tuple[Conditional, ...] = ()

    def conditional_actions(self) -> set[str]:
        """The actions of `conditional`."""
        return {entry.action for entry in self.conditional}

    def own_actions(self) -> set[str]:
        """Every action meshlink itself calls: `direct` and `conditional`."""
        return set(self.direct) | self.conditional_actions()

    def iam_actions(self) -> list[str]:
        """Every action of the role's policy: sorted, deduplicated."""
        return sorted((self.own_actions() | set(self.on_behalf)) - NEEDS_NO_PERMISSION)


@cache
def load_actions() -> Actions:
    """The packaged actions.json."""
    text = resources.files("meshlink.bootstrap").joinpath(DATA_FILE).read_text()
    data: dict[str, Any] = json.loads(text)
    return Actions(
        direct=tuple(data["direct"]),
        on_behalf=tuple(data["on_behalf"]),
        resource_types=tuple(data["resource_types"]),
        conditional=tuple(Conditional(**entry) for entry in data.get("conditional", [])),
    )


def role_name(account: Account) -> str:
    """The deploy role's name in `account` (its `role`, a name or ARN; else MeshlinkDeploy)."""
    return default_role_arn(account.id, account.role).rsplit("/", 1)[-1]


def stack_name(mesh: str) -> str:
    """The bootstrap stack of `mesh` in each account."""
    return f"meshlink-{mesh}-bootstrap"


def trust_principal(caller_arn: str) -> str:
    """The principal a trust policy names for a caller, from its GetCallerIdentity ARN.

    IAM users and the account root as they are; an assumed role as its role session
    principal (arn:aws:sts::<id>:assumed-role/<role>/<session>), which trust policies
    accept and which, unlike the role's ARN, does not need the role's path (SSO roles
    live under aws-reserved/...)
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#sts-session-principals).
    """
    if not re.fullmatch(r"arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:\S+", caller_arn):
        raise ValueError(f"not an IAM or STS principal ARN: {caller_arn!r}")
    return caller_arn


# Why the non-IAM actions are granted on every resource (checkov asks for constraints).
UNSCOPED = [
    {
        "id": check,
        "comment": "the mesh's VPCs, subnets, load balancers, endpoint services and ECS "
        "services get ids AWS generates, so no ARN can name them before they exist; the "
        "policy is exact in actions instead (those meshlink and CloudFormation call), and "
        "IAM actions are limited to the mesh's own roles",
    }
    for check in ("CKV_AWS_109", "CKV_AWS_111")
]


def _roles(mesh: str) -> list[dict[str, str]]:
    """The roles the deploy role may manage: the mesh's stacks' (CloudFormation names them
    <stack name>-<logical id>-<suffix>; stacks are meshlink-<mesh>-...), the Terraform
    module's (<mesh>-<account>-flow-logs-...), and service-linked roles AWS creates once."""
    arn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
    return [
        {"Fn::Sub": f"{arn}meshlink-{mesh}-*"},
        {"Fn::Sub": f"{arn}{mesh}-*"},
        {"Fn::Sub": f"{arn}aws-service-role/*"},
    ]


def _chunks(actions: list[str]) -> list[list[str]]:
    """Split `actions` so that each chunk's JSON fits one managed policy."""
    chunks: list[list[str]] = [[]]
    size = 0
    for action in actions:
        cost = len(action) + 3  # quotes and comma
        if chunks[-1] and size + cost > POLICY_BUDGET:
            chunks.append([])
            size = 0
        chunks[-1].append(action)
        size += cost
    return chunks


def deploy_role_template(
    topology: Topology, account_key: str, principal: str, actions: Actions | None = None
) -> dict[str, Any]:
    """The CloudFormation template of `account_key`'s deploy role, trusting `principal`."""
    actions = actions or load_actions()
    account = topology.accounts[account_key]
    name = role_name(account)
    resources_: dict[str, Any] = {
        "DeployRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": name,
                "Description": f"meshlink deploys mesh {topology.name} with this role",
                "MaxSessionDuration": MAX_SESSION_SECONDS,
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "Operator",
                            "Effect": "Allow",
                            "Principal": {"AWS": principal},
                            "Action": "sts:AssumeRole",
                            # meshlink names its sessions meshlink-<mesh>-<operator>
                            # (aws/sessions.py::session_name): CloudTrail tells runs apart.
                            "Condition": {
                                "StringLike": {"sts:RoleSessionName": f"meshlink-{topology.name}-*"}
                            },
                        }
                    ],
                },
                "Tags": [{"Key": "meshlink:mesh", "Value": topology.name}],
            },
        }
    }
    every = actions.iam_actions()
    scoped = [a for a in every if a.startswith("iam:")]
    chunks = [(chunk, "*") for chunk in _chunks([a for a in every if a not in scoped])]
    chunks += [(chunk, "roles") for chunk in _chunks(scoped)]
    for index, (chunk, scope) in enumerate(chunks, start=1):
        resources_[f"DeployPolicy{index}"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Description": f"meshlink {topology.name}: what meshlink and CloudFormation "
                f"on its behalf call (part {index})",
                "Roles": [{"Ref": "DeployRole"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": f"MeshlinkActions{index}",
                            "Effect": "Allow",
                            "Action": chunk,
                            "Resource": _roles(topology.name) if scope == "roles" else "*",
                        }
                    ],
                },
            },
        }
        if scope == "*":
            resources_[f"DeployPolicy{index}"]["Metadata"] = {"checkov": {"skip": UNSCOPED}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"meshlink {topology.name}: deploy role for account {account_key} "
        f"({account.id}), trusting {principal}",
        "Resources": resources_,
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["DeployRole", "Arn"]}}},
    }
