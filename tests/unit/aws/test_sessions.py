"""SessionFactory: roles, retries, caching, errors (local ones against a real local cloud)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from meshlink.aws.sessions import SessionFactory
from meshlink.errors import EnvironmentProblem, UsageError
from meshlink.topology.model import Account, Topology


def accounts() -> dict[str, Account]:
    return {
        "users": Account(id="111111111111", vpc_cidr="10.1.0.0/16"),
        "notify": Account(id="222222222222", vpc_cidr="10.2.0.0/16", role="Deployer"),
        "billing": Account(
            id="333333333333", vpc_cidr="10.3.0.0/16", role="arn:aws:iam::444444444444:role/Cross"
        ),
    }


def test_role_arn_resolution() -> None:
    factory = SessionFactory("aws", "eu-west-1", accounts=accounts())
    assert factory.role_arn("111111111111") == "arn:aws:iam::111111111111:role/MeshlinkDeploy"
    assert factory.role_arn("222222222222") == "arn:aws:iam::222222222222:role/Deployer"
    assert factory.role_arn("333333333333") == "arn:aws:iam::444444444444:role/Cross"
    assert factory.role_arn("555555555555") == "arn:aws:iam::555555555555:role/MeshlinkDeploy"


def test_clients_use_adaptive_retries_and_the_region() -> None:
    config = SessionFactory("aws", "eu-west-1").config
    assert config.retries == {"mode": "adaptive", "max_attempts": 10}
    assert config.region_name == "eu-west-1"


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        SessionFactory("gcp", "us-east-1")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="endpoint URL"):
        SessionFactory("local", "us-east-1")


def test_for_topology_takes_target_region_and_accounts() -> None:
    topology = Topology.model_validate(
        {
            "name": "shop",
            "region": "eu-west-1",
            "target": "aws",
            "accounts": accounts(),
            "services": {"a": {"account": "users", "port": 80}},
        }
    )
    factory = SessionFactory.for_topology(topology)
    assert (factory.target, factory.region, factory.endpoint_url) == ("aws", "eu-west-1", None)
    assert factory.role_arn("222222222222").endswith(":role/Deployer")


def test_local_cloud_down_is_an_environment_problem() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    factory = SessionFactory("local", "us-east-1", f"http://localhost:{port}", max_attempts=1)
    with pytest.raises(EnvironmentProblem, match="cannot reach the local cloud") as error:
        factory.session("111111111111")
    assert error.value.exit_code == 3 and "meshlink local start" in (error.value.hint or "")


@pytest.mark.localcloud
def test_local_sessions_act_in_their_account_and_are_cached(local_cloud: Any) -> None:
    factory = SessionFactory("local", "us-east-1", local_cloud.endpoint_url, accounts=accounts())
    sts = factory.client("222222222222", "sts")
    assert factory.client("222222222222", "sts") is sts
    assert factory.session("222222222222") is factory.session("222222222222")
    identity = sts.get_caller_identity()
    assert identity["Account"] == "222222222222"
    assert ":assumed-role/Deployer/meshlink" in identity["Arn"]
    assert factory.client("123456789000", "sts").get_caller_identity()["Account"] == "123456789000"
    assert sts.meta.config.retries["mode"] == "adaptive"


@pytest.mark.localcloud
def test_local_accounts_share_one_botocore_session(
    local_cloud: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.session

    started: list[object] = []
    original = botocore.session.Session.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        started.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "__init__", counting)
    factory = SessionFactory("local", "us-east-1", local_cloud.endpoint_url, accounts=accounts())
    found = {
        account_id: factory.client(account_id, "sts").get_caller_identity()["Account"]
        for account_id in ("111111111111", "222222222222", "555555555555")
    }
    assert found == {a: a for a in found}  # each client acts in its own account
    assert len(started) == 1  # a botocore session costs ~5 ms: one for every account
