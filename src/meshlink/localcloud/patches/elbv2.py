"""CloudFormation ``AWS::ElasticLoadBalancingV2::LoadBalancer`` as AWS does it.

moto 5.2.5 ignores ``Type`` (every load balancer becomes an ALB, so a TCP listener is
then rejected) and drops ``LoadBalancerAttributes``, ``SubnetMappings``,
``IpAddressType``, ``Tags`` and the PrivateLink security-group switch.
"""

from __future__ import annotations

import contextlib
from typing import Any

from meshlink.localcloud.patches._util import as_classmethod, patch

ENFORCE_ATTR = "enforce_security_group_inbound_rules_on_private_link_traffic"
CFN_ATTRS = (
    "DNSName",
    "LoadBalancerName",
    "LoadBalancerArn",
    "LoadBalancerFullName",
    "CanonicalHostedZoneID",
    "SecurityGroups",
)


def _full_name(arn: str) -> str:
    # arn:...:loadbalancer/net/name/id -> net/name/id
    return arn.split(":loadbalancer/", 1)[-1]


def _attributes(properties: dict[str, Any]) -> dict[str, str]:
    return {
        str(a["Key"]): str(a["Value"]).lower() if isinstance(a["Value"], bool) else str(a["Value"])
        for a in properties.get("LoadBalancerAttributes") or []
    }


def install() -> None:
    from moto.elbv2.models import FakeLoadBalancer, elbv2_backends

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        backend = elbv2_backends[account_id][region_name]
        lb_type = properties.get("Type", "application")
        load_balancer = backend.create_load_balancer(
            name=resource_name,
            security_groups=list(properties.get("SecurityGroups") or []),
            subnet_ids=list(properties.get("Subnets") or []),
            subnet_mappings=properties.get("SubnetMappings"),
            scheme=properties.get("Scheme", "internet-facing"),
            loadbalancer_type=lb_type,
            ip_address_type=properties.get("IpAddressType", "ipv4"),
            tags=properties.get("Tags") or [],
        )
        attributes = _attributes(properties)
        if attributes:
            backend.modify_load_balancer_attributes(load_balancer.arn, attributes)
        enforce = properties.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
        if enforce is not None:
            setattr(load_balancer, ENFORCE_ATTR, str(enforce))
        elif lb_type == "network" and properties.get("SecurityGroups"):
            setattr(load_balancer, ENFORCE_ATTR, "on")
        return load_balancer

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        backend = elbv2_backends[account_id][region_name]
        replace = (
            properties.get("Type", "application") != original_resource.type
            or properties.get("Scheme", "internet-facing") != original_resource.scheme
            or ("Name" in properties and properties["Name"] != original_resource.name)
        )
        if replace:
            backend.delete_load_balancer(original_resource.arn)
            return create_from_cloudformation_json(
                cls, new_resource_name, cloudformation_json, account_id, region_name
            )
        attributes = _attributes(properties)
        if attributes:
            backend.modify_load_balancer_attributes(original_resource.arn, attributes)
        if "SecurityGroups" in properties:
            original_resource.security_groups = list(properties["SecurityGroups"] or [])
        enforce = properties.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
        if enforce is not None:
            setattr(original_resource, ENFORCE_ATTR, str(enforce))
        return original_resource

    def has_cfn_attr(cls: Any, attr: str) -> bool:
        return attr in CFN_ATTRS

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        values = {
            "DNSName": self.dns_name,
            "LoadBalancerName": self.name,
            "LoadBalancerArn": self.arn,
            "LoadBalancerFullName": _full_name(self.arn),
            "CanonicalHostedZoneID": self.canonical_hosted_zone_id,
            "SecurityGroups": list(self.security_groups or []),
        }
        if attribute_name in values:
            return values[attribute_name]
        raise UnformattedGetAttTemplateException()

    patch(
        FakeLoadBalancer,
        "create_from_cloudformation_json",
        as_classmethod(create_from_cloudformation_json),
    )
    patch(
        FakeLoadBalancer,
        "update_from_cloudformation_json",
        as_classmethod(update_from_cloudformation_json),
    )
    patch(FakeLoadBalancer, "has_cfn_attr", as_classmethod(has_cfn_attr))
    patch(FakeLoadBalancer, "get_cfn_attribute", get_cfn_attribute)
    install_deletes()


def install_deletes() -> None:
    """Target groups and listeners leave with their stack (moto 5.2.5 keeps them)."""
    from moto.elbv2.models import FakeListener, FakeTargetGroup, elbv2_backends

    def target_group_delete(self: Any, account_id: str, region_name: str) -> None:
        backend = elbv2_backends[account_id][region_name]
        if self.arn in backend.target_groups:
            backend.delete_target_group(self.arn)

    def listener_delete(self: Any, account_id: str, region_name: str) -> None:
        from moto.elbv2.exceptions import ListenerNotFoundError

        # Its load balancer may have gone first (and taken it along).
        with contextlib.suppress(ListenerNotFoundError):
            elbv2_backends[account_id][region_name].delete_listener(self.arn)

    patch(FakeTargetGroup, "delete", target_group_delete)
    patch(FakeListener, "delete", listener_delete)
