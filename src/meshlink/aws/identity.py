"""Who meshlink is in each account, checked before a run touches anything.

``sts:GetCallerIdentity`` once per account of the topology, in parallel, through the
very sessions the run will use: a profile or role that resolves to another account is
an environment error (exit 3) naming the account, the id the topology expects and the
id the credentials act in. GetCallerIdentity needs no permission, so a deploy role
without any policy still answers it
(https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
Credentials from AssumeRole need no such call: its answer names the identity they act
as (AssumedRoleUser, the same ARN GetCallerIdentity returns for them), so only a
profile's own credentials are asked.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from meshlink.errors import EnvironmentProblem

if TYPE_CHECKING:
    from meshlink.engines.network_engine import ClientSource
    from meshlink.topology.model import Topology

MAX_PARALLEL = 8


@runtime_checkable
class AssumedRoles(Protocol):
    """Sessions that remember what AssumeRole answered (aws/sessions.SessionFactory)."""

    def assumed_arn(self, account_id: str) -> str | None: ...


def arn_account(arn: str) -> str:
    """The account field of an ARN (arn:aws:sts::<account>:assumed-role/...)."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


@dataclass(frozen=True)
class CallerIdentity:
    """One account's answer to GetCallerIdentity."""

    account: str  # the topology's key
    expected: str  # the topology's 12-digit id
    actual: str  # the account the credentials act in
    arn: str

    @property
    def matches(self) -> bool:
        return self.expected == self.actual


class IdentityMismatch(EnvironmentProblem):
    """The credentials for an account act in another account."""

    def __init__(self, mismatches: list[CallerIdentity]):
        lines = [
            f"account '{found.account}': expected {found.expected}, "
            f"but the credentials act in {found.actual} as {found.arn}"
            for found in mismatches
        ]
        super().__init__(
            "wrong AWS account; nothing was touched:\n  " + "\n  ".join(lines),
            hint="check the account's id, profile and role in the topology, and which "
            "credentials are active (aws sts get-caller-identity [--profile NAME])",
        )
        self.mismatches = mismatches


def caller_identities(sessions: ClientSource, topology: Topology) -> list[CallerIdentity]:
    """GetCallerIdentity of every account of `topology` (once per account id, in parallel)."""
    accounts = {account.id: key for key, account in topology.accounts.items()}

    def ask(account_id: str) -> CallerIdentity:
        assumed = sessions.assumed_arn(account_id) if isinstance(sessions, AssumedRoles) else None
        if assumed is not None:
            return CallerIdentity(accounts[account_id], account_id, arn_account(assumed), assumed)
        answer: dict[str, Any] = sessions.client(account_id, "sts").get_caller_identity()
        return CallerIdentity(
            account=accounts[account_id],
            expected=account_id,
            actual=str(answer["Account"]),
            arn=str(answer["Arn"]),
        )

    workers = max(1, min(MAX_PARALLEL, len(accounts)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="identity") as pool:
        return list(pool.map(ask, accounts))


def check_identities(sessions: ClientSource, topology: Topology) -> list[CallerIdentity]:
    """Every account's identity; IdentityMismatch (exit 3) when one acts elsewhere."""
    found = caller_identities(sessions, topology)
    wrong = [identity for identity in found if not identity.matches]
    if wrong:
        raise IdentityMismatch(wrong)
    return found
