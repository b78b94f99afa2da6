"""Pure parts of the moto patches: per-account zone mapping, template references."""

from __future__ import annotations

from meshlink.localcloud.patches import changesets, zones


def test_zone_map_is_a_deterministic_per_account_permutation() -> None:
    a = zones.zone_map("111111111111", "us-east-1")
    b = zones.zone_map("222222222222", "us-east-1")
    assert sorted(a) == sorted(b) == [f"us-east-1{c}" for c in "abcdef"]
    assert sorted(a.values()) == sorted(b.values()) == [f"use1-az{i}" for i in range(1, 7)]
    assert a != b
    zones.zone_map.cache_clear()
    assert zones.zone_map("111111111111", "us-east-1") == a
    for name, zone_id in a.items():
        assert zones.zone_name("111111111111", "us-east-1", zone_id) == name
        assert zones.zone_id("111111111111", name) == zone_id


def test_references_cover_ref_getatt_and_sub() -> None:
    body = {
        "Properties": {
            "A": {"Ref": "Sg"},
            "B": {"Fn::GetAtt": ["Role", "Arn"]},
            "C": {"Fn::GetAtt": "Tg.Arn"},
            "D": {"Fn::Sub": "com.amazonaws.vpce.${AWS::Region}.${Service}"},
            "E": [{"Fn::Sub": ["${X}-${Y.Name}", {"X": {"Ref": "Param"}}]}],
        }
    }
    assert changesets.references(body) == {
        "Sg",
        "Role",
        "Tg",
        "AWS::Region",
        "Service",
        "X",
        "Y",
        "Param",
    }
