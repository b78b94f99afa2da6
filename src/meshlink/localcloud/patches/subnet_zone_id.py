"""``AvailabilityZoneId`` of ``AWS::EC2::Subnet`` in CloudFormation.

moto 5.2.5 reads only ``AvailabilityZone`` there, so a subnet placed by zone id lands
in ``us-east-1a`` whatever the id. meshlink's network stacks place subnets by zone id
(the same physical zones in every account), so the id is read here, in the account's
own shuffled mapping (patches/zones.py), as AWS reads it.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches.registry import CfnCall, Properties, cfn
from meshlink.localcloud.patches.zones import zone_map, zone_name


def zone_properties(properties: dict[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """`properties` with an AvailabilityZoneId turned into this account's AZ name."""
    zone_id = properties.get("AvailabilityZoneId")
    if not zone_id or properties.get("AvailabilityZone"):
        return properties
    name = zone_name(account_id, region, str(zone_id))
    if name is None:
        from moto.ec2.exceptions import EC2ClientError

        known = ", ".join(sorted(set(zone_map(account_id, region).values())))
        raise EC2ClientError(
            "InvalidParameterValue",
            f"Value ({zone_id}) for parameter availabilityZoneId is invalid. Subnets can "
            f"currently only be created in the following availability zone ids: {known}.",
        )
    return {**properties, "AvailabilityZone": name}


@cfn("moto.ec2.models.subnets:Subnet", "create", backend="ec2")
def _create_subnet(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    resolved = zone_properties(properties, ec2.account_id, ec2.region_name)
    return call.moto({**call.template, "Properties": resolved})
