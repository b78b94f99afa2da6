"""Identity check and role choice, with a stand-in STS (the real one: functional tests)."""

from __future__ import annotations

from typing import Any

import pytest

from meshlink.aws.identity import IdentityMismatch, check_identities
from meshlink.aws.sessions import assumes_role
from meshlink.errors import EXIT_ENVIRONMENT
from meshlink.topology.model import Account, Topology


class FakeSts:
    def __init__(self, actual: str, calls: list[str]):
        self.actual, self.calls = actual, calls

    def get_caller_identity(self) -> dict[str, str]:
        self.calls.append(self.actual)
        return {"Account": self.actual, "Arn": f"arn:aws:iam::{self.actual}:user/op"}


class FakeSessions:
    def __init__(self, acts_in: dict[str, str]):
        self.acts_in, self.calls = acts_in, []  # type: dict[str, str], list[str]

    def client(self, account_id: str, service: str) -> Any:
        assert service == "sts"
        return FakeSts(self.acts_in.get(account_id, account_id), self.calls)


def topology() -> Topology:
    return Topology.model_validate(
        {
            "name": "shop",
            "accounts": {
                "users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"},
                "notify": {"id": "222222222222", "vpc_cidr": "10.2.0.0/16"},
            },
            "services": {"a": {"account": "users", "port": 80}},
        }
    )


def test_matching_identities_pass_once_per_account() -> None:
    sessions = FakeSessions({})
    found = check_identities(sessions, topology())
    assert sorted(sessions.calls) == ["111111111111", "222222222222"]
    assert all(identity.matches for identity in found)


def test_a_mismatch_names_the_account_the_expected_and_the_actual_id() -> None:
    with pytest.raises(IdentityMismatch) as caught:
        check_identities(FakeSessions({"222222222222": "999999999999"}), topology())
    assert caught.value.exit_code == EXIT_ENVIRONMENT
    assert "account 'notify': expected 222222222222, but the credentials act in 999999999999" in (
        caught.value.message
    )
    assert "'users'" not in caught.value.message


@pytest.mark.parametrize(
    ("fields", "assumed"),
    [
        ({}, True),
        ({"role": "Deployer"}, True),
        ({"profile": "p"}, False),
        ({"profile": "p", "role": "Deployer"}, True),
        ({"profile": "p", "principal": "role"}, True),
        ({"profile": "p", "principal": "arn:aws:iam::111111111111:role/x"}, False),
    ],
)
def test_a_profile_alone_is_the_account_a_role_or_principal_role_is_assumed(
    fields: dict[str, str], assumed: bool
) -> None:
    account = Account(id="111111111111", vpc_cidr="10.1.0.0/16", **fields)
    assert assumes_role(account) is assumed


class AssumedSessions(FakeSessions):
    """Sessions whose credentials came from AssumeRole (aws/sessions.SessionFactory)."""

    def __init__(self, assumed: dict[str, str | None]):
        super().__init__({})
        self.assumed = assumed

    def assumed_arn(self, account_id: str) -> str | None:
        return self.assumed.get(account_id)


ASSUMED = "arn:aws:sts::111111111111:assumed-role/MeshlinkDeploy/meshlink-shop-op"


def test_assumed_credentials_are_known_from_assume_role_without_asking_sts() -> None:
    # 222222222222: a profile's own credentials, asked
    sessions = AssumedSessions({"111111111111": ASSUMED, "222222222222": None})
    found = {i.account: (i.actual, i.arn) for i in check_identities(sessions, topology())}
    assert sessions.calls == ["222222222222"]
    assert found["users"] == ("111111111111", ASSUMED)


def test_a_role_assumed_in_another_account_is_a_mismatch() -> None:
    elsewhere = "arn:aws:sts::999999999999:assumed-role/Deployer/meshlink-shop-op"
    sessions = AssumedSessions({"111111111111": elsewhere, "222222222222": None})
    with pytest.raises(IdentityMismatch) as caught:
        check_identities(sessions, topology())
    assert f"expected 111111111111, but the credentials act in 999999999999 as {elsewhere}" in (
        caught.value.message
    )
