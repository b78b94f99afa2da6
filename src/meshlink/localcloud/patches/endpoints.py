"""CloudFormation ``AWS::EC2::VPCEndpoint``: attributes, update and delete.

moto 5.2.5 creates the endpoint but has no ``Fn::GetAtt`` (``DnsEntries``,
``NetworkInterfaceIds``, ``Id``), no update (the resource is lost on any change) and
no delete (the endpoint outlives its stack).
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches._util import as_classmethod, patch

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

    from meshlink.localcloud.patches import privatelink

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


def install() -> None:
    import json

    from moto.ec2.models import ec2_backends
    from moto.ec2.models.vpcs import VPCEndPoint

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = dict(cloudformation_json.get("Properties") or {})
        if isinstance(properties.get("PolicyDocument"), dict):
            properties["PolicyDocument"] = json.dumps(properties["PolicyDocument"])
        backend = ec2_backends[account_id][region_name]
        _check_private_dns(region_name, properties)
        endpoint = backend.create_vpc_endpoint(**_create_kwargs(properties))
        for tag in properties.get("Tags") or []:
            endpoint.add_tag(tag["Key"], tag["Value"])
        return endpoint

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        backend = ec2_backends[account_id][region_name]
        current = {
            "ServiceName": original_resource.service_name,
            "VpcId": original_resource.vpc_id,
            "VpcEndpointType": original_resource.vpc_endpoint_type,
        }
        if any(properties.get(k) != current[k] for k in REPLACING_PROPERTIES):
            replacement = create_from_cloudformation_json(
                cls, new_resource_name, cloudformation_json, account_id, region_name
            )
            backend.delete_vpc_endpoints([original_resource.id])
            return replacement
        wanted_subnets = list(properties.get("SubnetIds") or [])
        wanted_groups = list(properties.get("SecurityGroupIds") or [])
        have_subnets = list(original_resource.subnet_ids or [])
        have_groups = list(original_resource.security_group_ids or [])
        original_resource.modify(
            None,
            [s for s in wanted_subnets if s not in have_subnets],
            [s for s in have_subnets if s not in wanted_subnets],
            None,
            None,
            [g for g in wanted_groups if g not in have_groups],
            [g for g in have_groups if g not in wanted_groups],
        )
        return original_resource

    def delete_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        ec2_backends[account_id][region_name].delete_vpc_endpoints([resource_name])

    def delete(self: Any, account_id: str, region_name: str) -> None:
        ec2_backends[account_id][region_name].delete_vpc_endpoints([self.id])

    attrs = ("Id", "DnsEntries", "NetworkInterfaceIds", "CreationTimestamp")

    def has_cfn_attr(cls: Any, attr: str) -> bool:
        return attr in attrs

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
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

    patch(
        VPCEndPoint,
        "create_from_cloudformation_json",
        as_classmethod(create_from_cloudformation_json),
    )
    patch(
        VPCEndPoint,
        "update_from_cloudformation_json",
        as_classmethod(update_from_cloudformation_json),
    )
    patch(
        VPCEndPoint,
        "delete_from_cloudformation_json",
        as_classmethod(delete_from_cloudformation_json),
    )
    patch(VPCEndPoint, "delete", delete)
    patch(VPCEndPoint, "has_cfn_attr", as_classmethod(has_cfn_attr))
    patch(VPCEndPoint, "get_cfn_attribute", get_cfn_attribute)
