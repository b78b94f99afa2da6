"""CdkNetworkEngine's zone ids: looked up once, only for plan/apply, sent as `ZoneIds`.

The deployer and the template are doubles here; tests/functional/test_cdk_network.py
deploys the same engine on the local cloud.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from meshlink.engines.cdk.events import DeleteResult, DeployResult, StackPlan
from meshlink.engines.cdk.network import CdkNetworkEngine
from meshlink.errors import UsageError
from meshlink.topology.model import Topology

TOPOLOGY = Topology.model_validate(
    {
        "name": "zones",
        "network": {"engine": "cdk", "az_count": 2},
        "accounts": {
            "users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"},
            "notify": {"id": "222222222222", "vpc_cidr": "10.2.0.0/16"},
        },
        "services": {"svc": {"account": "users", "port": 8080}},
    }
)
OUTPUTS = {
    "VpcId": "vpc-1", "VpcCidr": "10.1.0.0/16", "Azs": "us-east-1e,us-east-1a",
    "AzIds": "use1-az1,use1-az2", "PublicSubnetIds": "subnet-1,subnet-2",
    "PrivateSubnetIds": "subnet-3,subnet-4", "IsolatedSubnetIds": "subnet-5,subnet-6",
    "PrivateRouteTableIds": "rtb-1,rtb-2",
}  # fmt: skip


class FakeDeployer:
    def __init__(self, calls: list[tuple[str, Mapping[str, str] | None]]) -> None:
        self.calls = calls

    def diff(self, stack: str, template: Any, *, parameters: Any = None, **_: Any) -> StackPlan:
        self.calls.append(("diff", parameters))
        return StackPlan(stack, "CREATE")

    def deploy(
        self, stack: str, template: Any, *, parameters: Any = None, **_: Any
    ) -> DeployResult:
        self.calls.append(("deploy", parameters))
        return DeployResult(stack, "created", dict(OUTPUTS))

    def delete(self, stack: str) -> DeleteResult:
        self.calls.append(("delete", None))
        return DeleteResult(stack, True)

    def outputs(self, stack: str) -> dict[str, str]:
        self.calls.append(("outputs", None))
        return dict(OUTPUTS)


class FakeEc2:
    def describe_security_groups(self, **_: Any) -> dict[str, Any]:
        return {"SecurityGroups": []}


class FakeSessions:
    def client(self, account_id: str, service: str) -> Any:
        assert service == "ec2"
        return FakeEc2()


def make_engine(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    zone_ids: Sequence[str] | None,
) -> tuple[CdkNetworkEngine, list[tuple[str, Mapping[str, str] | None]], list[int]]:
    calls: list[tuple[str, Mapping[str, str] | None]] = []
    lookups: list[int] = []

    def look_up() -> Sequence[str]:
        lookups.append(1)
        assert zone_ids is not None
        return zone_ids

    engine = CdkNetworkEngine(
        TOPOLOGY,
        sessions=FakeSessions(),
        cache_dir=tmp_path,
        zone_ids=None if zone_ids is None else look_up,
    )
    monkeypatch.setattr(engine, "_deployer", lambda account: FakeDeployer(calls))
    monkeypatch.setattr(engine, "template", lambda account: {"Resources": {}})
    return engine, calls, lookups


def test_zone_ids_are_looked_up_once_and_sent_as_the_parameter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, calls, lookups = make_engine(tmp_path, monkeypatch, ["use1-az1", "use1-az2"])
    assert lookups == []  # lazily: constructing the engine looks nothing up
    engine.plan("users")
    engine.apply("users")
    engine.apply("notify")
    expected = {"ZoneIds": "use1-az1,use1-az2"}
    assert calls == [("diff", expected), ("deploy", expected), ("deploy", expected)]
    assert lookups == [1]


def test_destroy_and_outputs_never_look_zones_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, calls, lookups = make_engine(tmp_path, monkeypatch, ["use1-az1", "use1-az2"])
    assert engine.outputs("users")["az_ids"] == ["use1-az1", "use1-az2"]
    assert engine.destroy("users").deleted
    assert [c[0] for c in calls] == ["outputs", "delete"]
    assert lookups == []


def test_without_zone_ids_plan_and_apply_refuse_but_destroy_and_outputs_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, calls, _ = make_engine(tmp_path, monkeypatch, None)
    for step in (engine.plan, engine.apply):
        with pytest.raises(UsageError, match="needs the mesh's zone ids") as refused:
            step("users")
        assert "zone_ids=" in (refused.value.hint or "")
    assert calls == []  # refused before CloudFormation is asked anything
    engine.outputs("users")
    engine.destroy("users")
    assert [c[0] for c in calls] == ["outputs", "delete"]


@pytest.mark.parametrize(
    "zone_ids", [["use1-az1"], ["use1-az1", "use1-az2", "use1-az3"], ["use1-az1", "use1-az1"]]
)
def test_zone_ids_must_match_az_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone_ids: list[str]
) -> None:
    engine, calls, _ = make_engine(tmp_path, monkeypatch, zone_ids)
    with pytest.raises(UsageError, match=r"network\.az_count is 2"):
        engine.plan("users")
    assert calls == []
