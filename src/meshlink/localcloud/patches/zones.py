"""Per-account AZ name -> zone id mapping, as in AWS (moto maps them alike everywhere).

In AWS, ``us-east-1a`` is a different physical zone in each account; only zone ids
(``use1-az1``) compare across accounts. The local cloud derives each account's
mapping deterministically from the account id, so zone-id bugs show up locally.
``Fn::GetAZs`` gives the stack region's AZ names as DescribeAvailabilityZones lists
them for the stack's account (moto answers ``us-east-1a``..``d`` for every region).
"""

from __future__ import annotations

import hashlib
import random
from functools import lru_cache
from typing import Any

from meshlink.localcloud.patches.registry import replace, wrap


@lru_cache(maxsize=4096)
def zone_map(account_id: str, region: str) -> dict[str, str]:
    """AZ name -> zone id for `account_id` in `region` (same ids as moto, shuffled)."""
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    zones = [
        z
        for z in RegionsAndZonesBackend.zones.get(region, [])
        if z.zone_type == "availability-zone"
    ]
    names = [z.name for z in zones]
    ids = sorted(z.zone_id for z in zones)
    seed = int.from_bytes(hashlib.sha256(f"{account_id}/{region}".encode()).digest()[:8], "big")
    random.Random(seed).shuffle(ids)  # noqa: S311 - deterministic shuffle, not security
    mapping = dict(zip(names, ids, strict=True))
    for zone in RegionsAndZonesBackend.zones.get(region, []):
        mapping.setdefault(zone.name, zone.zone_id)  # local/wavelength zones keep moto's id
    return mapping


def zone_id(account_id: str, zone_name: str) -> str:
    """The zone id that AZ `zone_name` means in `account_id`."""
    region = _region_of(zone_name)
    return zone_map(account_id, region).get(zone_name, zone_name)


def zone_name(account_id: str, region: str, zone_id_: str) -> str | None:
    """The AZ name under which `account_id` sees zone id `zone_id_` (None if unknown)."""
    for name, zid in zone_map(account_id, region).items():
        if zid == zone_id_:
            return name
    return None


def _region_of(zone_name: str) -> str:
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    for region, zones in RegionsAndZonesBackend.zones.items():
        if any(z.name == zone_name for z in zones):
            return region
    return zone_name[:-1]


def _account_zones(account_id: str, region: str) -> list[Any]:
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend, Zone

    mapping = zone_map(account_id, region)
    out = []
    for zone in RegionsAndZonesBackend.zones.get(region, []):
        copy = Zone(zone.name, zone.region_name, mapping[zone.name], zone.zone_type)
        out.append(copy)
    return out


def availability_zone_names(account_id: str, region: str) -> list[str]:
    """What ``Fn::GetAZs`` returns to `account_id` for `region`."""
    return [
        z.name for z in _account_zones(account_id, region) if z.zone_type == "availability-zone"
    ]


@wrap("moto.cloudformation.parsing", "clean_json")
def _clean_json(original: Any, resource_json: Any, resources_map: Any) -> Any:
    # moto's own recursion looks the name up in the module, so it reaches this one too.
    # Conditions are parsed with a plain dict for resources_map: no account there.
    from moto.cloudformation import parsing

    account_id = getattr(resources_map, "_account_id", None)
    if isinstance(resource_json, dict) and "Fn::GetAZs" in resource_json and account_id:
        region = parsing.clean_json(resource_json["Fn::GetAZs"], resources_map)
        return availability_zone_names(account_id, region or resources_map._region_name)
    return original(resource_json, resources_map)


_ZONE_FILTERS = (
    ("zone-id", "zone_id"),
    ("zone-type", "zone_type"),
    ("zone-name", "name"),
    ("region-name", "region_name"),
    ("state", "state"),
)


@replace(
    "moto.ec2.models.availability_zones_and_regions:RegionsAndZonesBackend",
    "describe_availability_zones",
)
def _describe_availability_zones(
    self: Any,
    filters: list[dict[str, Any]] | None = None,
    zone_names: list[str] | None = None,
    zone_ids: list[str] | None = None,
) -> list[Any]:
    from moto.utilities.utils import filter_resources

    zones = _account_zones(self.account_id, self.region_name)
    result = filter_resources(zones, filters, _ZONE_FILTERS) if filters else zones
    result = [r for r in result if not zone_ids or r.zone_id in zone_ids]
    return [r for r in result if not zone_names or r.name in zone_names]


@replace("moto.ec2.models.subnets:Subnet", "availability_zone_id", as_=property)
def _subnet_zone_id(self: Any) -> str:
    return zone_id(self.ec2_backend.account_id, self._availability_zone.name)


@wrap("moto.ec2.models.subnets:Subnet", "get_filter_value")
def _subnet_filter_value(
    original: Any, self: Any, filter_name: str, method_name: str | None = None
) -> Any:
    if filter_name in ("availability-zone-id", "availabilityZoneId"):
        return self.availability_zone_id
    return original(self, filter_name, method_name)


def _subnet_attributes(subnet: Any) -> dict[str, Any]:
    return {
        "AvailabilityZone": subnet.availability_zone,
        "AvailabilityZoneId": subnet.availability_zone_id,
        "VpcId": subnet.vpc_id,
        "CidrBlock": subnet.cidr_block,
        "SubnetId": subnet.id,
    }


_SUBNET_ATTRIBUTES = ("AvailabilityZone", "AvailabilityZoneId", "VpcId", "CidrBlock", "SubnetId")


@wrap("moto.ec2.models.subnets:Subnet", "has_cfn_attr")
def _subnet_has_cfn_attr(original: Any, cls: Any, attr: str) -> bool:
    return attr in _SUBNET_ATTRIBUTES or bool(original(cls, attr))


@replace("moto.ec2.models.subnets:Subnet", "get_cfn_attribute")
def _subnet_cfn_attribute(self: Any, attribute_name: str) -> Any:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    values = _subnet_attributes(self)
    if attribute_name in values:
        return values[attribute_name]
    raise UnformattedGetAttTemplateException()


@wrap("moto.ec2.models.subnets:SubnetBackend", "create_subnet")
def _create_subnet(
    original: Any,
    self: Any,
    vpc_id: str,
    cidr_block: str,
    ipv6_cidr_block: str | None = None,
    availability_zone: str | None = None,
    availability_zone_id: str | None = None,
    ipv6_native: bool = False,
    tags: Any = None,
) -> Any:
    if availability_zone_id and not availability_zone:
        # AWS reads the id in the caller's own mapping.
        name = zone_name(self.account_id, self.region_name, availability_zone_id)
        if name is not None:
            availability_zone, availability_zone_id = name, None
    return original(
        self,
        vpc_id,
        cidr_block,
        ipv6_cidr_block,
        availability_zone,
        availability_zone_id,
        ipv6_native=ipv6_native,
        tags=tags,
    )
