from __future__ import annotations

from typing import Any

import pytest

from meshlink.deploy.zones import common_zone_ids
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
