"""CloudFormation ``AWS::EC2::VPCEndpoint``: attributes, update and delete.

moto 5.2.5 creates the endpoint but has no ``Fn::GetAtt`` (``DnsEntries``,
``NetworkInterfaceIds``, ``Id``), no update (the resource is lost on any change) and
no delete (the endpoint outlives its stack).
"""

from __future__ import annotations

import json
from typing import Any

from meshlink.localcloud.patches import privatelink
from meshlink.localcloud.patches.registry import CfnCall, Properties, cfn, on_delete, replace

REPLACING_PROPERTIES = ("ServiceName", "VpcId", "VpcEndpointType")


def _create_kwargs(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "vpc_id": properties.get("VpcId"),
        "service_name": properties.get("ServiceName"),
        "endpoint_type": properties.get("VpcEndpointType"),
        "subnet_ids": list(properties.get("SubnetIds") or []),
        "policy_document": properties.get("PolicyDocument"),
        "private_dns_enabled": properties.get("PrivateDnsEnabled"),
        "route_table_ids": list(properties.get("RouteTableIds") or []),
        "security_group_ids": list(properties.get("SecurityGroupIds") or []),
    }


def _check_private_dns(region: str, properties: dict[str, Any]) -> None:
    """AWS refuses private DNS on a service that has no (verified) private DNS name."""
    from moto.ec2.exceptions import InvalidParameter

    if str(properties.get("PrivateDnsEnabled", "false")).lower() != "true":
        return
    name = str(properties.get("ServiceName") or "")
    config = (
        privatelink.find_service(region, name) if name.startswith("com.amazonaws.vpce.") else None
    )
    if config is not None and not config.private_dns_name:
        raise InvalidParameter(
            f"Private DNS can't be enabled because the service {name} does not provide a "
            "private DNS name."
        )


_ENDPOINT = "moto.ec2.models.vpcs:VPCEndPoint"
CFN_ATTRS = ("Id", "DnsEntries", "NetworkInterfaceIds", "CreationTimestamp")


@cfn(_ENDPOINT, "create", backend="ec2")
def _create_endpoint(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    properties = dict(properties)
    if isinstance(properties.get("PolicyDocument"), dict):
        properties["PolicyDocument"] = json.dumps(properties["PolicyDocument"])
    _check_private_dns(ec2.region_name, properties)
    endpoint = ec2.create_vpc_endpoint(**_create_kwargs(properties))
    for tag in properties.get("Tags") or []:
        endpoint.add_tag(tag["Key"], tag["Value"])
    return endpoint


def _replaced(properties: Properties, endpoint: Any) -> bool:
    current = {
        "ServiceName": endpoint.service_name,
        "VpcId": endpoint.vpc_id,
        "VpcEndpointType": endpoint.vpc_endpoint_type,
    }
    return any(properties.get(k) != current[k] for k in REPLACING_PROPERTIES)


def _added(wanted: list[str], have: list[str]) -> list[str]:
    return [item for item in wanted if item not in have]


@cfn(_ENDPOINT, "update", backend="ec2")
def _update_endpoint(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    endpoint = call.current
    if _replaced(properties, endpoint):
        replacement = _create_endpoint(properties, ec2, call)
        ec2.delete_vpc_endpoints([endpoint.id])
        return replacement
    wanted_subnets = list(properties.get("SubnetIds") or [])
    wanted_groups = list(properties.get("SecurityGroupIds") or [])
    have_subnets = list(endpoint.subnet_ids or [])
    have_groups = list(endpoint.security_group_ids or [])
    endpoint.modify(
        None,
        _added(wanted_subnets, have_subnets),
        _added(have_subnets, wanted_subnets),
        None,
        None,
        _added(wanted_groups, have_groups),
        _added(have_groups, wanted_groups),
    )
    return endpoint


@cfn(_ENDPOINT, "delete", backend="ec2")
def _delete_endpoint_by_name(properties: Properties, ec2: Any, call: CfnCall) -> None:
    ec2.delete_vpc_endpoints([call.name])


@on_delete(_ENDPOINT, backend="ec2")
def _delete_endpoint(endpoint: Any, ec2: Any) -> None:
    ec2.delete_vpc_endpoints([endpoint.id])


@replace(_ENDPOINT, "has_cfn_attr", as_=classmethod)
def _endpoint_has_cfn_attr(cls: Any, attr: str) -> bool:
    return attr in CFN_ATTRS


@replace(_ENDPOINT, "get_cfn_attribute")
def _endpoint_cfn_attribute(self: Any, attribute_name: str) -> Any:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    if attribute_name == "Id":
        return self.id
    if attribute_name == "DnsEntries":
        # CloudFormation's format: "<hosted zone id>:<dns name>"
        return [f"{e['hosted_zone_id']}:{e['dns_name']}" for e in self.dns_entries or []]
    if attribute_name == "NetworkInterfaceIds":
        return list(self.network_interface_ids)
    if attribute_name == "CreationTimestamp":
        return str(self.creation_timestamp)
    raise UnformattedGetAttTemplateException()
