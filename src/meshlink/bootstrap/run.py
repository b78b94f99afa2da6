"""Build each account's deploy-role template, and deploy it with ``--apply``.

Who is trusted: the operator's principal, from ``sts:GetCallerIdentity`` of the
credentials meshlink starts from in that account (its profile, else the default chain),
or ``--trust-principal``. Who creates the role: on AWS, those same credentials, which
must act in the account itself (an administrator's; meshlink's own role does not exist
yet); on the local cloud, its AssumeRole into the account stands in for them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshlink.bootstrap.policy import deploy_role_template, role_name, stack_name, trust_principal
from meshlink.errors import DeployError, EnvironmentProblem, UsageError

if TYPE_CHECKING:
    from meshlink.aws.sessions import SessionFactory
    from meshlink.topology.model import Topology

Progress = Callable[[str], None]
TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
POLL_SECONDS = 2.0
WAIT_SECONDS = 900.0


@dataclass
class AccountRole:
    """One account's bootstrap: the template, and what --apply did."""

    account: str
    account_id: str
    role_name: str
    role_arn: str
    trust_principal: str
    stack_name: str
    template: dict[str, Any]
    status: str = "printed"  # printed | created | updated | unchanged
    outputs: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_id": self.account_id,
            "role_name": self.role_name,
            "role_arn": self.role_arn,
            "trust_principal": self.trust_principal,
            "stack_name": self.stack_name,
            "status": self.status,
            "template": self.template,
        }


def _accounts(topology: Topology, selected: list[str]) -> list[str]:
    unknown = [key for key in selected if key not in topology.accounts]
    if unknown:
        raise UsageError(
            f"unknown account {', '.join(repr(k) for k in unknown)}",
            hint=f"accounts of this mesh: {', '.join(topology.accounts)}",
        )
    return selected or list(topology.accounts)


def _caller_arn(sessions: SessionFactory, account_id: str) -> tuple[str, str]:
    """(account, ARN) of the credentials meshlink starts from in `account_id`."""
    kwargs: dict[str, Any] = {"config": sessions.config}
    if sessions.endpoint_url:
        kwargs["endpoint_url"] = sessions.endpoint_url
    answer = sessions.base_session(account_id).client("sts", **kwargs).get_caller_identity()
    return str(answer["Account"]), str(answer["Arn"])


def plan_bootstrap(
    topology: Topology,
    sessions: SessionFactory,
    *,
    principal: str | None = None,
    accounts: list[str] | None = None,
) -> list[AccountRole]:
    """Every selected account's deploy-role template (asks STS only without `principal`)."""
    if principal is not None:
        try:
            trust_principal(principal)
        except ValueError as error:
            raise UsageError(
                str(error), hint="pass an IAM user or role ARN, or an assumed-role ARN"
            ) from None
    roles = []
    for key in _accounts(topology, accounts or []):
        account = topology.accounts[key]
        trusted = principal or trust_principal(_caller_arn(sessions, account.id)[1])
        roles.append(
            AccountRole(
                account=key,
                account_id=account.id,
                role_name=role_name(account),
                role_arn=sessions.role_arn(account.id),
                trust_principal=trusted,
                stack_name=stack_name(topology.name),
                template=deploy_role_template(topology, key, trusted),
            )
        )
    return roles


def _admin_client(sessions: SessionFactory, account_id: str) -> Any:
    """A CloudFormation client acting in `account_id` that can create the role."""
    if sessions.target == "local":
        return sessions.client(account_id, "cloudformation")
    actual, arn = _caller_arn(sessions, account_id)
    if actual != account_id:
        raise EnvironmentProblem(
            f"to create the deploy role in {account_id}, meshlink needs credentials of that "
            f"account; the ones it starts from act in {actual} as {arn}",
            hint="give the account a profile: with administrator rights there (or set "
            "AWS_PROFILE), run bootstrap --apply, then switch to the deploy role",
        )
    return sessions.base_session(account_id).client(
        "cloudformation", config=sessions.config, region_name=sessions.region
    )


def _stack(client: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = client.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return stacks[0] if stacks else None


def _deploy(client: Any, role: AccountRole, progress: Progress) -> None:
    from botocore.exceptions import ClientError

    body = json.dumps(role.template)
    existing = _stack(client, role.stack_name)
    arguments = {
        "StackName": role.stack_name,
        "TemplateBody": body,
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
        "Tags": [{"Key": "meshlink:bootstrap", "Value": role.role_name}],
    }
    if existing is None or existing["StackStatus"] == "REVIEW_IN_PROGRESS":
        progress(f"{role.account}: creating {role.stack_name} (role {role.role_name})")
        client.create_stack(**arguments)
        role.status = "created"
    else:
        try:
            client.update_stack(**arguments)
        except ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
            role.status = "unchanged"
        else:
            progress(f"{role.account}: updating {role.stack_name}")
            role.status = "updated"
    stack = _wait(client, role.stack_name)
    role.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _wait(client: Any, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        stack = _stack(client, name)
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
        if stack is not None and status in TERMINAL_OK:
            return stack
        if status.endswith(("_FAILED", "ROLLBACK_COMPLETE", "DELETE_COMPLETE")):
            reason = stack.get("StackStatusReason", "") if stack else ""
            raise DeployError(
                f"bootstrap stack {name} ended {status} {reason}".strip(),
                hint="its events say why: aws cloudformation describe-stack-events "
                f"--stack-name {name}",
            )
        if time.monotonic() > deadline:
            raise DeployError(f"bootstrap stack {name} still {status} after {WAIT_SECONDS:.0f}s")
        time.sleep(POLL_SECONDS)


def apply_bootstrap(
    roles: list[AccountRole], sessions: SessionFactory, progress: Progress
) -> list[AccountRole]:
    """Deploy each account's bootstrap stack (create, or update in place)."""
    for role in roles:
        _deploy(_admin_client(sessions, role.account_id), role, progress)
    return roles
