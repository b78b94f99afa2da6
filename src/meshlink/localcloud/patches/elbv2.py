"""CloudFormation ``AWS::ElasticLoadBalancingV2::LoadBalancer`` as AWS does it.

moto 5.2.5 ignores ``Type`` (every load balancer becomes an ALB, so a TCP listener is
then rejected) and drops ``LoadBalancerAttributes``, ``SubnetMappings``,
``IpAddressType``, ``Tags`` and the PrivateLink security-group switch.
"""

from __future__ import annotations

import contextlib
from typing import Any

from meshlink.localcloud.patches.registry import (
    CfnCall,
    Properties,
    cfn,
    on_delete,
    replace,
    wrap,
)

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


_LB = "moto.elbv2.models:FakeLoadBalancer"


@cfn(_LB, "create", backend="elbv2")
def _create_load_balancer(properties: Properties, elbv2: Any, call: CfnCall) -> Any:
    lb_type = properties.get("Type", "application")
    load_balancer = elbv2.create_load_balancer(
        name=call.name,
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
        elbv2.modify_load_balancer_attributes(load_balancer.arn, attributes)
    enforce = properties.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
    if enforce is not None:
        setattr(load_balancer, ENFORCE_ATTR, str(enforce))
    elif lb_type == "network" and properties.get("SecurityGroups"):
        setattr(load_balancer, ENFORCE_ATTR, "on")
    return load_balancer


def _needs_replacement(properties: Properties, current: Any) -> bool:
    return (
        properties.get("Type", "application") != current.type
        or properties.get("Scheme", "internet-facing") != current.scheme
        or ("Name" in properties and properties["Name"] != current.name)
    )


@cfn(_LB, "update", backend="elbv2")
def _update_load_balancer(properties: Properties, elbv2: Any, call: CfnCall) -> Any:
    current = call.current
    if _needs_replacement(properties, current):
        elbv2.delete_load_balancer(current.arn)
        return _create_load_balancer(properties, elbv2, call)
    attributes = _attributes(properties)
    if attributes:
        elbv2.modify_load_balancer_attributes(current.arn, attributes)
    if "SecurityGroups" in properties:
        current.security_groups = list(properties["SecurityGroups"] or [])
    enforce = properties.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
    if enforce is not None:
        setattr(current, ENFORCE_ATTR, str(enforce))
    return current


@replace(_LB, "has_cfn_attr", as_=classmethod)
def _lb_has_cfn_attr(cls: Any, attr: str) -> bool:
    return attr in CFN_ATTRS


@replace(_LB, "get_cfn_attribute")
def _lb_cfn_attribute(self: Any, attribute_name: str) -> Any:
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


# Target groups and listeners leave with their stack (moto 5.2.5 keeps them).
@on_delete("moto.elbv2.models:FakeTargetGroup", backend="elbv2")
def _delete_target_group(target_group: Any, elbv2: Any) -> None:
    if target_group.arn in elbv2.target_groups:
        elbv2.delete_target_group(target_group.arn)


@on_delete("moto.elbv2.models:FakeListener", backend="elbv2")
def _delete_listener(listener: Any, elbv2: Any) -> None:
    from moto.elbv2.exceptions import ListenerNotFoundError

    # Its load balancer may have gone first (and taken it along).
    with contextlib.suppress(ListenerNotFoundError):
        elbv2.delete_listener(listener.arn)


@wrap("moto.elbv2.models:ELBv2Backend", "create_load_balancer")
def _network_load_balancer_arn(original: Any, backend: Any, *args: Any, **kwargs: Any) -> Any:
    """A Network Load Balancer's ARN ends in ``loadbalancer/net/<name>/<id>`` (moto writes
    ``app/`` for every type), and ``net/<name>/<id>`` is the dimension of its CloudWatch
    metrics (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html)."""
    load_balancer = original(backend, *args, **kwargs)
    old = str(load_balancer.arn)
    if load_balancer.type == "network" and ":loadbalancer/app/" in old:
        new = old.replace(":loadbalancer/app/", ":loadbalancer/net/", 1)
        backend.load_balancers[new] = backend.load_balancers.pop(old)
        backend.tagging_service.copy_tags(old, new)
        backend.tagging_service.delete_all_tags_for_resource(old)
        load_balancer.arn = new
    return load_balancer
