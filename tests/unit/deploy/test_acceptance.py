"""Acceptance under eventual consistency: wait for expected connections to appear, accept
exactly those, reject any other; a connection not visible yet fails only at the deadline."""

from __future__ import annotations

from typing import Any

import pytest

from meshlink.deploy.acceptance import reconcile_connections
from meshlink.errors import DeployError


class Provider:
    """The provider's view of its connections, one snapshot per look (the last repeats);
    accept and reject move a connection on in every later snapshot."""

    def __init__(
        self, looks: list[dict[str, str]], unsuccessful: list[dict[str, Any]] | None = None
    ):
        self.looks = looks
        self.calls: list[str] = []
        self.moved: dict[str, str] = {}
        self.unsuccessful = unsuccessful or []

    def describe_vpc_endpoint_connections(self, **_: Any) -> dict[str, Any]:
        look = self.looks.pop(0) if len(self.looks) > 1 else self.looks[0]
        states = {e: self.moved.get(e, s) for e, s in look.items()}
        return {
            "VpcEndpointConnections": [
                {"VpcEndpointId": e, "VpcEndpointState": s} for e, s in states.items()
            ]
        }

    def accept_vpc_endpoint_connections(self, **kwargs: Any) -> dict[str, Any]:
        ids = kwargs["VpcEndpointIds"]
        self.calls.append(f"accept {','.join(ids)}")
        failed, self.unsuccessful = self.unsuccessful, []
        refused = {f["ResourceId"] for f in failed}
        self.moved.update({e: "available" for e in ids if e not in refused})
        return {"Unsuccessful": failed}

    def reject_vpc_endpoint_connections(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(f"reject {','.join(kwargs['VpcEndpointIds'])}")
        self.moved.update(dict.fromkeys(kwargs["VpcEndpointIds"], "rejected"))
        return {"Unsuccessful": []}


def reconcile(provider: Provider, expected: dict[str, str], **kwargs: Any) -> Any:
    options: dict[str, Any] = {"timeout": 60.0, "sleep": lambda s: None}
    return reconcile_connections(provider, "vpce-svc-1", expected, **{**options, **kwargs})


def test_an_expected_connection_not_visible_yet_is_waited_for_then_accepted() -> None:
    provider = Provider(
        [
            {"vpce-stranger": "pendingAcceptance"},
            {"vpce-stranger": "pendingAcceptance"},
            {"vpce-stranger": "pendingAcceptance", "vpce-a": "pendingAcceptance"},
        ]
    )
    seen: list[str] = []
    result = reconcile(provider, {"vpce-a": "alpha"}, progress=seen.append)
    assert provider.calls == ["reject vpce-stranger", "accept vpce-a"]
    assert (result.accepted, result.rejected) == (["vpce-a"], ["vpce-stranger"])
    assert result.states == {"vpce-a": "available"}
    assert "waiting for alpha (not visible yet)" in seen


def test_connections_appearing_one_by_one_are_each_accepted_once() -> None:
    provider = Provider(
        [
            {"vpce-a": "pendingAcceptance"},
            {"vpce-a": "pendingAcceptance", "vpce-b": "pendingAcceptance"},
        ]
    )
    result = reconcile(provider, {"vpce-a": "alpha", "vpce-b": "beta"})
    assert provider.calls == ["accept vpce-a", "accept vpce-b"]
    assert sorted(result.accepted) == ["vpce-a", "vpce-b"]


def test_a_late_unexpected_connection_is_rejected_when_it_appears() -> None:
    provider = Provider(
        [
            {"vpce-a": "pending"},
            {"vpce-a": "pending", "vpce-x": "pendingAcceptance"},
            {"vpce-a": "available", "vpce-x": "pendingAcceptance"},
        ]
    )
    result = reconcile(provider, {"vpce-a": "alpha"})
    assert provider.calls == ["reject vpce-x"]
    assert result.rejected == ["vpce-x"]


def test_an_accept_that_cannot_see_the_connection_yet_is_tried_again() -> None:
    not_yet = {
        "ResourceId": "vpce-a",
        "Error": {"Code": "InvalidVpcEndpointId.NotFound", "Message": "not found"},
    }
    provider = Provider([{"vpce-a": "pendingAcceptance"}], unsuccessful=[not_yet])
    result = reconcile(provider, {"vpce-a": "alpha"})
    assert provider.calls == ["accept vpce-a", "accept vpce-a"]
    assert result.accepted == ["vpce-a"]


def test_the_deadline_names_what_was_awaited_and_its_last_state() -> None:
    provider = Provider([{"vpce-b": "pending"}])
    ticks = iter(range(100))
    with pytest.raises(DeployError) as caught:
        reconcile(
            provider,
            {"vpce-a": "alpha", "vpce-b": "beta"},
            timeout=5.0,
            clock=lambda: float(next(ticks)),
        )
    assert caught.value.message == (
        "endpoint service vpce-svc-1: gave up waiting for its consumers' endpoint connections "
        "after 5s; last seen: alpha (vpce-a): not visible yet, beta (vpce-b): pending"
    )


def test_an_expected_connection_that_was_rejected_fails_at_once() -> None:
    provider = Provider([{"vpce-a": "rejected"}])
    with pytest.raises(DeployError, match=r"alpha \(vpce-a\) is rejected"):
        reconcile(provider, {"vpce-a": "alpha"})


class Counted(Provider):
    def __init__(self, looks: list[dict[str, str]]) -> None:
        super().__init__(looks)
        self.looked = 0

    def describe_vpc_endpoint_connections(self, **kwargs: Any) -> dict[str, Any]:
        self.looked += 1
        return super().describe_vpc_endpoint_connections(**kwargs)


def test_connections_the_run_already_read_serve_the_first_look() -> None:
    settled = {"vpce-a": {"VpcEndpointId": "vpce-a", "VpcEndpointState": "available"}}
    provider = Counted([{"vpce-a": "available"}])
    result = reconcile(provider, {"vpce-a": "a"}, first=settled)
    assert (result.states, provider.looked, provider.calls) == ({"vpce-a": "available"}, 0, [])

    # Something to do: done on the first look, then every later look asks.
    pending = {"vpce-a": {"VpcEndpointId": "vpce-a", "VpcEndpointState": "pendingAcceptance"}}
    provider = Counted([{"vpce-a": "pendingAcceptance"}])
    result = reconcile(provider, {"vpce-a": "a"}, first=pending)
    assert (result.accepted, provider.calls, provider.looked) == (["vpce-a"], ["accept vpce-a"], 1)
    assert pending["vpce-a"]["VpcEndpointState"] == "pendingAcceptance"  # not written to


def test_endpoints_the_run_created_are_accepted_before_the_first_look() -> None:
    provider = Counted([{"vpce-a": "pendingAcceptance", "vpce-x": "pendingAcceptance"}])
    result = reconcile(provider, {"vpce-a": "alpha"}, new=["vpce-a"])
    # One accept, then one look: it is available, and the stranger is rejected.
    assert provider.calls == ["accept vpce-a", "reject vpce-x"]
    assert provider.looked == 1
    assert (result.accepted, result.rejected) == (["vpce-a"], ["vpce-x"])
    assert result.states == {"vpce-a": "available"}


def test_a_new_endpoint_not_visible_yet_is_accepted_by_the_looks() -> None:
    not_yet = {
        "ResourceId": "vpce-a",
        "Error": {"Code": "InvalidVpcEndpoint.NotFound", "Message": "not found"},
    }
    provider = Provider([{}, {"vpce-a": "pendingAcceptance"}], unsuccessful=[not_yet])
    seen: list[str] = []
    result = reconcile(provider, {"vpce-a": "alpha"}, new=["vpce-a"], progress=seen.append)
    assert provider.calls == ["accept vpce-a", "accept vpce-a"]
    assert result.accepted == ["vpce-a"]  # once, by the look that saw it pending
    assert "waiting for alpha (not visible yet)" in seen
