"""The run's snapshot of the mesh's stacks: one DescribeStacks listing per account."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from meshlink.deploy.live import StackSnapshot


class ClientError(Exception):
    """What botocore raises, as far as meshlink.aws.errors reads it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}}


def stack(name: str, status: str, mesh: str = "shop", **outputs: str) -> dict[str, Any]:
    return {
        "StackName": name,
        "StackStatus": status,
        "Tags": [{"Key": "meshlink:mesh", "Value": mesh}, {"Key": "meshlink:node", "Value": "n"}],
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
    }


class Cfn:
    """describe_stacks of one account: listed a page at a time, or by name."""

    def __init__(self, *stacks: dict[str, Any]) -> None:
        self.stacks = {s["StackName"]: s for s in stacks}
        self.listed = 0
        self.described: list[str] = []
        self.lock = threading.Lock()

    def get_paginator(self, operation: str) -> Any:
        assert operation == "describe_stacks"
        owner = self

        class Pages:
            def paginate(self) -> list[dict[str, Any]]:
                with owner.lock:
                    owner.listed += 1
                everything = list(owner.stacks.values())
                return [{"Stacks": everything[:1]}, {"Stacks": everything[1:]}]

        return Pages()

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        self.described.append(StackName)
        if StackName not in self.stacks:
            raise ClientError("ValidationError", f"Stack with id {StackName} does not exist")
        return {"Stacks": [self.stacks[StackName]]}


def snapshot(**accounts: Cfn) -> StackSnapshot:
    return StackSnapshot("shop", lambda account_id: accounts[account_id])


def test_each_account_is_listed_once_however_many_ask_at_once() -> None:
    a = Cfn(stack("meshlink-shop-edge-x", "CREATE_COMPLETE", ServiceId="vpce-svc-1"))
    b = Cfn(stack("meshlink-shop-platform-b", "UPDATE_COMPLETE"))
    stacks = snapshot(a=a, b=b)
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda i: stacks.stack("ab"[i % 2], "x"), range(32)))
    assert found == [None] * 32
    edge = stacks.stack("a", "meshlink-shop-edge-x")
    assert edge is not None and edge.outputs == {"ServiceId": "vpce-svc-1"}
    assert set(stacks.stacks("b")) == {"meshlink-shop-platform-b"}
    assert (a.listed, b.listed, a.described, b.described) == (1, 1, [], [])


def test_only_this_meshs_stacks_and_a_deleted_one_is_absent() -> None:
    cfn = Cfn(
        stack("meshlink-shop-edge-x", "DELETE_COMPLETE"),
        stack("meshlink-shop-edge-y", "CREATE_COMPLETE", mesh="shop-edge"),
        stack("meshlink-shop-edge-z", "ROLLBACK_COMPLETE"),
    )
    stacks = snapshot(a=cfn)
    assert stacks.stack("a", "meshlink-shop-edge-x") is None
    assert stacks.stack("a", "meshlink-shop-edge-y") is None  # mesh "shop-edge"'s
    assert {n: s.status for n, s in stacks.stacks("a").items()} == {
        "meshlink-shop-edge-x": "DELETE_COMPLETE",
        "meshlink-shop-edge-z": "ROLLBACK_COMPLETE",
    }


def test_a_stack_the_run_changes_is_described_afresh_from_then_on() -> None:
    cfn = Cfn(stack("meshlink-shop-edge-x", "CREATE_COMPLETE", Port="80"))
    stacks = snapshot(a=cfn)
    assert stacks.stack("a", "meshlink-shop-edge-x") is not None
    stacks.forget("a", "meshlink-shop-edge-x")
    cfn.stacks["meshlink-shop-edge-x"] = stack("meshlink-shop-edge-x", "UPDATE_COMPLETE", Port="81")
    cfn.stacks["meshlink-shop-service-new"] = stack("meshlink-shop-service-new", "CREATE_COMPLETE")
    again = stacks.stack("a", "meshlink-shop-edge-x")
    assert again is not None and again.outputs == {"Port": "81"}
    assert stacks.stacks("a")["meshlink-shop-edge-x"].status == "UPDATE_COMPLETE"
    # A stack made by the run is read by name once it is forgotten, and so is one deleted.
    stacks.forget("a", "meshlink-shop-service-new")
    assert stacks.stack("a", "meshlink-shop-service-new") is not None
    del cfn.stacks["meshlink-shop-edge-x"]
    assert stacks.stack("a", "meshlink-shop-edge-x") is None
    assert "meshlink-shop-edge-x" not in stacks.stacks("a")
    assert cfn.listed == 2  # the last read: two stacks changed, so the account is listed


def test_the_stacks_a_run_changed_are_read_in_one_listing_not_one_by_one() -> None:
    names = [f"meshlink-shop-edge-{i}" for i in range(3)]
    cfn = Cfn(*(stack(name, "CREATE_COMPLETE", Port="80") for name in names))
    stacks = snapshot(a=cfn)
    assert len(stacks.stacks("a")) == 3
    for name in names:
        stacks.forget("a", name)
        cfn.stacks[name] = stack(name, "UPDATE_COMPLETE", Port="81")
    del cfn.stacks[names[0]]
    fresh = stacks.stacks("a")
    assert {n: s.outputs["Port"] for n, s in fresh.items()} == {names[1]: "81", names[2]: "81"}
    assert (cfn.listed, cfn.described) == (2, [])
