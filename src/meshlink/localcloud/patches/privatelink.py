"""PrivateLink as AWS documents it, across accounts (moto 5.2.5 accepts any endpoint).

* ``CreateVpcEndpoint`` (API and CloudFormation) to ``com.amazonaws.vpce.<region>.vpce-svc-*``
  fails with ``InvalidServiceName`` unless the service exists in the region and the
  caller is its owner or an allowed principal (account root or the calling role);
  subnets must share a zone id with the service's load balancers (``InvalidParameter``).
* Endpoints start ``pendingAcceptance`` (acceptance required) or ``available``.
* ``DescribeVpcEndpointServices`` shows a custom service only to its owner and allowed
  principals, with AZ names in the caller's own mapping and ``AvailabilityZoneIds``.
* Deleting a service with available/pending connections fails
  (``ExistingVpcEndpointConnections``), as in AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshlink.localcloud.patches import zones
from meshlink.localcloud.patches.identity import Caller, current_caller
from meshlink.localcloud.patches.registry import backend, replace, wrap

CUSTOM_PREFIX = "com.amazonaws.vpce."
HOSTED_ZONE_ID = "Z7HUB22UULQXV"
ACTIVE_STATES = ("available", "pendingAcceptance")


def ec2(account_id: str, region: str) -> Any:
    return backend("ec2", account_id, region)


def ec2_backends_in(region: str) -> Iterator[Any]:
    """Every account's EC2 backend that moto has created for `region`."""
    from moto.ec2.models import ec2_backends

    for per_account in list(dict.values(ec2_backends)):
        if region in dict.keys(per_account):
            yield dict.__getitem__(per_account, region)


def find_service(region: str, service_name: str) -> Any | None:
    for regional in ec2_backends_in(region):
        for config in list(regional.configurations.values()):
            if config.service_name == service_name:
                return config
    return None


def find_service_by_id(region: str, service_id: str) -> Any | None:
    for regional in ec2_backends_in(region):
        config = regional.configurations.get(service_id)
        if config is not None:
            return config
    return None


def owner_of(config: Any) -> str:
    return str(config.ec2_backend.account_id)


def is_allowed(config: Any, caller: Caller) -> bool:
    if caller.account_id == owner_of(config):
        return True
    allowed = set(config.principals)
    return "*" in allowed or bool(allowed & caller.principals())


def _load_balancers(config: Any) -> list[Any]:
    elbv2 = backend("elbv2", owner_of(config), config.ec2_backend.region_name)
    arns = list(config.network_load_balancer_arns) + list(config.gateway_load_balancer_arns)
    return [elbv2.load_balancers[a] for a in arns if a in elbv2.load_balancers]


def _subnet_owner(subnet: Any, default: str) -> str:
    backend = getattr(subnet, "ec2_backend", None)
    return str(backend.account_id) if backend is not None else default


def service_zone_ids(config: Any) -> list[str]:
    """Zone ids the service's load balancers are in (order kept, no duplicates)."""
    owner = owner_of(config)
    # A subnet's zone name is its owner's name for the zone: a shared subnet's is the
    # VPC owner's, not the service owner's (patches/shared_subnets.py).
    found = [
        zones.zone_id(_subnet_owner(s, owner), s.availability_zone)
        for lb in _load_balancers(config)
        for s in lb.subnets
    ]
    return list(dict.fromkeys(found))


def names_for(account_id: str, region: str, zone_ids: list[str]) -> list[str]:
    names = [zones.zone_name(account_id, region, z) for z in zone_ids]
    return sorted(n for n in names if n)


def endpoints_of(config: Any) -> list[Any]:
    """Every interface endpoint, in any account, created for this service."""
    return [
        endpoint
        for regional in ec2_backends_in(config.ec2_backend.region_name)
        for endpoint in list(regional.vpc_end_points.values())
        if getattr(endpoint, "meshlink_service_id", None) == config.id
    ]


def _existing_connections_error() -> Exception:
    from moto.ec2.exceptions import EC2ClientError

    return EC2ClientError(
        "ExistingVpcEndpointConnections", "Service has existing active VPC Endpoint connections!"
    )


def delete_service(account_id: str, region: str, service_id: str) -> None:
    """Delete one service configuration the AWS way (refused while connections are active)."""
    from moto.ec2.exceptions import UnknownVpcEndpointService

    configurations = ec2(account_id, region).configurations
    config = configurations.get(service_id)
    if config is None:
        raise UnknownVpcEndpointService(service_id)
    if any(e.state in ACTIVE_STATES for e in endpoints_of(config)):
        raise _existing_connections_error()
    for endpoint in endpoints_of(config):
        endpoint.meshlink_service_deleted = True
    del configurations[service_id]


def tags_of(resource: Any) -> list[dict[str, str]]:
    """A TaggedEC2Resource's tags in the API's Key/Value shape."""
    return [{"Key": t["key"], "Value": t["value"]} for t in resource.get_tags()]


def service_detail(config: Any, caller_account: str) -> dict[str, Any]:
    """DescribeVpcEndpointServices' view of `config` for `caller_account`."""
    detail = dict(config.to_dict())
    ids = service_zone_ids(config)
    detail["AvailabilityZoneIds"] = ids
    detail["AvailabilityZones"] = names_for(caller_account, config.ec2_backend.region_name, ids)
    detail["Tags"] = tags_of(config)
    detail["ServiceRegion"] = config.ec2_backend.region_name
    return detail


def _dns_entries(config: Any, endpoint_id: str, zone_names: list[str]) -> list[dict[str, str]]:
    from moto.moto_api._internal import mock_random

    suffix = mock_random.get_random_hex(length=8)
    domain = f"{config.id}.{config.ec2_backend.region_name}.vpce.amazonaws.com"
    entries = [{"dns_name": f"{endpoint_id}-{suffix}.{domain}", "hosted_zone_id": HOSTED_ZONE_ID}]
    entries += [
        {"dns_name": f"{endpoint_id}-{suffix}-{name}.{domain}", "hosted_zone_id": HOSTED_ZONE_ID}
        for name in zone_names
    ]
    return entries


def check_endpoint_request(ec2: Any, service_name: str, subnet_ids: list[str]) -> Any | None:
    """Raise AWS's error when this account may not create an endpoint; the service or None."""
    from moto.ec2.exceptions import InvalidServiceName

    region = ec2.region_name
    if not service_name.startswith("com.amazonaws."):
        raise InvalidServiceName(service_name)
    if not service_name.startswith(CUSTOM_PREFIX):
        if not service_name.startswith(f"com.amazonaws.{region}."):
            raise InvalidServiceName(service_name)
        return None
    config = find_service(region, service_name)
    caller = current_caller(ec2.account_id) or Caller(ec2.account_id)
    if config is None or not is_allowed(config, caller):
        # AWS answers the same for "does not exist" and "not allowed to see it".
        raise InvalidServiceName(service_name)
    check_zones(ec2, config, subnet_ids)
    return config


def check_zones(ec2: Any, config: Any, subnet_ids: list[str]) -> None:
    """InvalidParameter unless every subnet is in a zone (by id) the service covers."""
    from moto.ec2.exceptions import InvalidParameter

    service_name = config.service_name
    supported = set(service_zone_ids(config))
    for subnet_id in subnet_ids:
        subnet = ec2.get_subnet(subnet_id)
        owner = _subnet_owner(subnet, ec2.account_id)
        if zones.zone_id(owner, subnet.availability_zone) not in supported:
            raise InvalidParameter(
                f"The VPC endpoint service {service_name} does not support the availability "
                f"zone of the subnet: {subnet_id}."
            )


_VPCS = "moto.ec2.models.vpcs:VPCBackend"
_SERVICE = "moto.ec2.models.vpc_service_configuration:VPCServiceConfiguration"


@wrap(_VPCS, "create_vpc_endpoint")
def _create_vpc_endpoint(
    original: Any, self: Any, vpc_id: str, service_name: str, *args: Any, **kwargs: Any
) -> Any:
    endpoint_type = kwargs.get("endpoint_type", args[0] if args else None)
    config = None
    if (endpoint_type or "").lower() in ("interface", "gatewayloadbalancer"):
        subnet_ids = kwargs.get("subnet_ids") or []
        config = check_endpoint_request(self, service_name, list(subnet_ids))
    endpoint: Any = original(self, vpc_id, service_name, *args, **kwargs)
    if config is not None:
        endpoint.meshlink_service_id = config.id
        endpoint.meshlink_service_owner = owner_of(config)
        endpoint.state = "pendingAcceptance" if config.acceptance_required else "available"
        subnets = [self.get_subnet(s) for s in endpoint.subnet_ids or []]
        names = sorted({s.availability_zone for s in subnets})
        endpoint.dns_entries = _dns_entries(config, endpoint.id, names)
    return endpoint


@wrap(_VPCS, "modify_vpc_endpoint")
def _modify_vpc_endpoint(
    original: Any,
    self: Any,
    vpc_id: str,
    policy_doc: str,
    add_subnets: Any,
    *args: Any,
    **kwargs: Any,
) -> Any:
    # vpc_id is moto's name for the endpoint id here.
    endpoint = self.vpc_end_points.get(vpc_id)
    service_id = getattr(endpoint, "meshlink_service_id", None)
    config = find_service_by_id(self.region_name, service_id) if service_id else None
    if config is not None and add_subnets:
        check_zones(self, config, list(add_subnets))
    return original(self, vpc_id, policy_doc, add_subnets, *args, **kwargs)


@replace(_VPCS, "describe_vpc_endpoint_services")
def _describe_vpc_endpoint_services(
    self: Any,
    service_names: list[str],
    filters: Any,
    max_results: int,
    next_token: str | None,
    region: str,
) -> dict[str, Any]:
    from moto.ec2.exceptions import InvalidServiceName

    caller = current_caller(self.account_id) or Caller(self.account_id)
    defaults = self._collect_default_endpoint_services(self.account_id, region)
    custom = [
        service_detail(config, self.account_id)
        for regional in ec2_backends_in(region)
        for config in list(regional.configurations.values())
        if is_allowed(config, caller)
    ]
    everything = list(defaults) + custom
    known = {s["ServiceName"] for s in everything}
    for name in service_names or []:
        if name not in known:
            raise InvalidServiceName(name)
    selected = sorted(
        self._filter_endpoint_services(service_names, filters, everything),
        key=lambda s: s["ServiceName"],
    )
    return {
        "servicesDetails": selected,
        "serviceNames": [s["ServiceName"] for s in selected],
        "nextToken": None,
    }


# The service's zones follow its load balancers (moto froze them at creation).
def _read_only(getter: Any) -> property:
    return property(getter, lambda self, value: None)


@replace(_SERVICE, "availability_zones", as_=_read_only)
def _service_zone_names(self: Any) -> list[str]:
    if "ec2_backend" not in self.__dict__:  # still inside moto's __init__
        return []
    return names_for(owner_of(self), self.ec2_backend.region_name, service_zone_ids(self))


@replace(_SERVICE, "availability_zone_ids", as_=property)
def _service_zone_ids(self: Any) -> list[str]:
    return service_zone_ids(self) if "ec2_backend" in self.__dict__ else []
