from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshlink.deploy.zones import (
    ZONES_FILE,
    ZoneNotOffered,
    common_zone_ids,
    mesh_zone_ids,
    read_recorded,
    record,
    resize,
    zone_ids_of,
)
from meshlink.errors import EnvironmentProblem


class FakeEc2:
    def __init__(self, zone_ids: list[str]):
        self.zone_ids = zone_ids

    def describe_availability_zones(self, **_: Any) -> dict[str, Any]:
        return {"AvailabilityZones": [{"ZoneId": z, "State": "available"} for z in self.zone_ids]}


def test_zone_ids_common_to_every_account_are_chosen_in_order() -> None:
    clients = {
        "a": FakeEc2(["use1-az6", "use1-az1", "use1-az2", "use1-az4"]),
        "b": FakeEc2(["use1-az4", "use1-az2", "use1-az1"]),
    }
    assert common_zone_ids(["a", "b"], clients.__getitem__, 2) == ["use1-az1", "use1-az2"]


def test_too_few_shared_zones_says_how_many_there_are() -> None:
    clients = {"a": FakeEc2(["use1-az1", "use1-az2"]), "b": FakeEc2(["use1-az2", "use1-az3"])}
    with pytest.raises(EnvironmentProblem) as caught:
        common_zone_ids(["a", "b"], clients.__getitem__, 2)
    assert "share 1 availability zone ids (use1-az2)" in caught.value.message
    assert caught.value.hint is not None and "az_count to 1" in caught.value.hint


CLIENTS = {
    "a": FakeEc2(["use1-az1", "use1-az2", "use1-az3", "use1-az4"]),
    "b": FakeEc2(["use1-az1", "use1-az2", "use1-az3", "use1-az4"]),
    "c": FakeEc2(["use1-az2", "use1-az3", "use1-az4"]),
}


def test_a_mesh_without_a_network_chooses_the_first_common_zone_ids() -> None:
    chosen = mesh_zone_ids(["a", "c"], CLIENTS.__getitem__, 2, kept=lambda: None)
    assert chosen == (["use1-az2", "use1-az3"], "chosen")


def test_kept_zone_ids_stay_although_the_common_ones_would_differ() -> None:
    kept = ["use1-az3", "use1-az1"]
    assert mesh_zone_ids(["a", "b"], CLIENTS.__getitem__, 2, kept=lambda: kept) == (
        kept,
        "kept",
    )


def test_an_account_lacking_a_kept_zone_is_bad_input_naming_it() -> None:
    with pytest.raises(ZoneNotOffered) as caught:
        mesh_zone_ids(
            ["a", "b", "c"], CLIENTS.__getitem__, 2, kept=lambda: ["use1-az1", "use1-az2"]
        )
    error = caught.value
    assert error.exit_code == 2
    assert error.missing == {"c": ["use1-az1"]}
    assert error.message.startswith("account c does not offer use1-az1: ")
    assert error.hint is not None and error.hint.startswith("remove account c from the topology")


def test_a_changed_az_count_keeps_what_it_can() -> None:
    kept = ["use1-az4", "use1-az1"]
    assert mesh_zone_ids(["a", "c"], CLIENTS.__getitem__, 3, kept=lambda: kept) == (
        ["use1-az4", "use1-az2", "use1-az3"],
        "resized",
    )
    assert resize(kept, {"use1-az1", "use1-az4"}, 1) == ["use1-az4"]


def test_the_record_round_trips_and_a_broken_one_reads_as_none(tmp_path: Path) -> None:
    assert read_recorded(tmp_path) is None
    record(tmp_path / "state", ["use1-az2", "use1-az1"])
    assert read_recorded(tmp_path / "state") == ["use1-az2", "use1-az1"]
    (tmp_path / "state" / ZONES_FILE).write_text('{"zone_ids": "use1-az1"}')
    assert read_recorded(tmp_path / "state") is None


class FakeHost:
    """What zone_ids_of needs of a run: a journal, a state dir, clients, an engine."""

    def __init__(self, state_dir: Path, *, read_only: bool, live: dict[str, list[str]]):
        from types import SimpleNamespace

        from meshlink.graph.journal import Journal
        from meshlink.topology.model import Topology

        self.topology = Topology.model_validate(
            {
                "name": "m",
                "network": {"az_count": 2},
                "accounts": {
                    "a": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"},
                    "c": {"id": "333333333333", "vpc_cidr": "10.3.0.0/16"},
                },
                "services": {"s": {"account": "a", "port": 80}},
            }
        )
        self.state_dir = state_dir
        self.options = SimpleNamespace(read_only=read_only)
        self.journal = Journal(state_dir)
        self.live = live
        self.notices: list[str] = []
        self.network_engine = self

    def outputs(self, account: str) -> dict[str, Any]:
        if account not in self.live:
            raise KeyError(account)
        return {"az_ids": self.live[account]}

    def client(self, account: str, service: str) -> FakeEc2:
        return CLIENTS[account]

    def notice(self, message: str) -> None:
        self.notices.append(message)


def test_plan_chooses_without_recording_up_records(tmp_path: Path) -> None:
    plan = FakeHost(tmp_path, read_only=True, live={})
    assert zone_ids_of(plan) == ["use1-az2", "use1-az3"]
    assert read_recorded(tmp_path) is None
    assert "`up` keeps them" in plan.notices[0]
    up = FakeHost(tmp_path, read_only=False, live={})
    assert zone_ids_of(up) == ["use1-az2", "use1-az3"]
    assert read_recorded(tmp_path) == ["use1-az2", "use1-az3"]


def test_lost_journal_and_record_read_the_live_networks(tmp_path: Path) -> None:
    host = FakeHost(tmp_path, read_only=True, live={"a": ["use1-az1", "use1-az2"]})
    with pytest.raises(ZoneNotOffered) as caught:
        zone_ids_of(host)
    assert caught.value.missing == {"c": ["use1-az1"]}


class CountingEc2(FakeEc2):
    def __init__(self, zone_ids: list[str], asked: list[str]) -> None:
        super().__init__(zone_ids)
        self.asked = asked

    def describe_availability_zones(self, **kwargs: Any) -> dict[str, Any]:
        self.asked.append(",".join(self.zone_ids))
        return super().describe_availability_zones(**kwargs)


def test_accounts_found_to_offer_the_kept_zones_are_not_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    clients = {k: CountingEc2(c.zone_ids, asked) for k, c in CLIENTS.items()}
    monkeypatch.setattr(FakeHost, "client", lambda self, account, service: clients[account])
    up = FakeHost(tmp_path, read_only=False, live={})
    assert zone_ids_of(up) == ["use1-az2", "use1-az3"]
    assert len(asked) == 2
    up.journal.update("network:a", status="done", outputs={"az_ids": ["use1-az2", "use1-az3"]})

    again = FakeHost(tmp_path, read_only=False, live={})
    assert zone_ids_of(again) == ["use1-az2", "use1-az3"]
    assert len(asked) == 2  # both accounts were found to offer them: nothing asked
    assert again.notices == ["availability zones (by id): use1-az2, use1-az3"]

    # An account that joins is asked (and so are the others, in the same look-up).
    joined = FakeHost(tmp_path, read_only=False, live={})
    joined.topology.accounts["b"] = joined.topology.accounts["a"].model_copy(
        update={"id": "222222222222"}
    )
    assert zone_ids_of(joined) == ["use1-az2", "use1-az3"]
    assert len(asked) == 5
    assert zone_ids_of(joined) == ["use1-az2", "use1-az3"] and len(asked) == 5
