"""Accounts that are not offered every zone of a region, as on AWS.

On AWS the zones an account may use differ: in us-east-1, for example, many accounts
are not offered ``use1-az3``; ``DescribeAvailabilityZones`` then does not list it and a
subnet cannot be created there
(https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html,
https://repost.aws/knowledge-center/ec2-availability-zone-not-listed). Nothing in the
EC2 API changes that: it comes with the account. The local cloud offers every zone to
every account unless told otherwise through its admin API::

    POST /_meshlink/zones {"account_id": "...", "region": "us-east-1", "withheld": ["use1-az1"]}
    GET  /_meshlink/zones

Withheld zones leave ``DescribeAvailabilityZones`` and ``Fn::GetAZs``, and creating a
subnet in one (by name or id) fails with EC2's ``InvalidParameterValue``.
"""

from __future__ import annotations

import threading
from typing import Any

from meshlink.localcloud.patches import zones
from meshlink.localcloud.patches.registry import step, wrap

_lock = threading.Lock()
_withheld: dict[tuple[str, str], frozenset[str]] = {}


def withheld(account_id: str, region: str) -> frozenset[str]:
    """Zone ids `account_id` is not offered in `region`."""
    with _lock:
        return _withheld.get((account_id, region), frozenset())


def withhold(account_id: str, region: str, zone_ids: list[str]) -> None:
    """Offer `account_id` every zone of `region` but `zone_ids` (an empty list: all)."""
    with _lock:
        if zone_ids:
            _withheld[(account_id, region)] = frozenset(zone_ids)
        else:
            _withheld.pop((account_id, region), None)


def snapshot() -> dict[str, dict[str, list[str]]]:
    with _lock:
        result: dict[str, dict[str, list[str]]] = {}
        for (account, region), ids in sorted(_withheld.items()):
            result.setdefault(account, {})[region] = sorted(ids)
        return result


@wrap("meshlink.localcloud.patches.zones", "_account_zones")
def _offered_zones(original: Any, account_id: str, region: str) -> list[Any]:
    hidden = withheld(account_id, region)
    return [z for z in original(account_id, region) if z.zone_id not in hidden]


@wrap("moto.ec2.models.subnets:SubnetBackend", "create_subnet")
def _create_subnet(
    original: Any,
    self: Any,
    vpc_id: str,
    cidr_block: str,
    ipv6_cidr_block: str | None = None,
    availability_zone: str | None = None,
    availability_zone_id: str | None = None,
    *args: Any,
    **kwargs: Any,
) -> Any:
    from moto.ec2.exceptions import EC2ClientError

    hidden = withheld(self.account_id, self.region_name)
    if hidden:
        wanted = availability_zone_id or (
            zones.zone_id(self.account_id, availability_zone) if availability_zone else None
        )
        if wanted in hidden:
            offered = sorted(
                z.zone_id
                for z in zones._account_zones(self.account_id, self.region_name)
                if z.zone_type == "availability-zone"
            )
            parameter = "availabilityZoneId" if availability_zone_id else "availabilityZone"
            raise EC2ClientError(
                "InvalidParameterValue",
                f"Value ({availability_zone_id or availability_zone}) for parameter "
                f"{parameter} is invalid. Subnets can currently only be created in the "
                f"following availability zones: {', '.join(offered)}.",
            )
    return original(
        self,
        vpc_id,
        cidr_block,
        ipv6_cidr_block,
        availability_zone,
        availability_zone_id,
        *args,
        **kwargs,
    )


@step
def _admin_route() -> None:
    from meshlink.localcloud.admin import AdminError, AdminRequest, register_route

    def handle(request: AdminRequest) -> Any:
        if request.method == "POST":
            body = request.json()
            try:
                account = str(body["account_id"])
                region = str(body.get("region") or "us-east-1")
                ids = [str(z) for z in body.get("withheld") or []]
            except (KeyError, TypeError, AttributeError) as error:
                raise AdminError(
                    'expected {"account_id": ..., "region": ..., "withheld": [zone ids]}'
                ) from error
            withhold(account, region, ids)
        return {"withheld": snapshot()}

    register_route("/zones", handle)
