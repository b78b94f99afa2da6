"""Eventual consistency, as AWS documents it for the EC2 API.

"Because of eventual consistency, a resource that you just created might not be visible
right away": a describe by id may answer ``*.NotFound`` for a moment
(https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html). Here:

* ``DescribeVpcs``, ``DescribeSubnets``, ``DescribeSecurityGroups``,
  ``DescribeNatGateways`` and ``DescribeVpcEndpoints`` given the id of a resource created
  less than ``describe.not_found_after_create`` x scale ago answer AWS's NotFound error;
* a new interface endpoint's connection shows in the provider's
  ``DescribeVpcEndpointConnections`` only ``interface_endpoint.connection_visible`` x
  scale after the endpoint was created.

On only when :attr:`meshlink.localcloud.clock.Timing.consistency` is (by default under
``--timing aws``; ``MESHLINK_LOCAL_CONSISTENCY=on|off`` overrides). Lists without ids
are not filtered: AWS's documented case is the describe by id right after the create.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from meshlink.localcloud import clock
from meshlink.localcloud.patches.registry import wrap

_born: dict[str, float] = {}
_lock = threading.Lock()
NOT_FOUND = "describe.not_found_after_create"
CONNECTION = "interface_endpoint.connection_visible"


def born(resource_id: str) -> float | None:
    """When the resource with this id was created (monotonic), if this process saw it."""
    with _lock:
        return _born.get(resource_id)


def _remember(resource: Any) -> Any:
    resource_id = getattr(resource, "id", None)
    if isinstance(resource_id, str):
        with _lock:
            _born[resource_id] = clock.now()
    return resource


def too_young(resource_id: str, key: str) -> bool:
    """Whether a read of `resource_id` may still miss its create."""
    created = born(resource_id)
    lag = clock.current().lag(key)
    return created is not None and lag > 0 and clock.now() < created + lag


_BACKEND = "moto.ec2.models:EC2Backend"


@wrap(_BACKEND, "create_vpc")
def _create_vpc(original: Any, *args: Any, **kwargs: Any) -> Any:
    return _remember(original(*args, **kwargs))


@wrap(_BACKEND, "create_subnet")
def _create_subnet(original: Any, *args: Any, **kwargs: Any) -> Any:
    return _remember(original(*args, **kwargs))


@wrap(_BACKEND, "create_security_group")
def _create_security_group(original: Any, *args: Any, **kwargs: Any) -> Any:
    return _remember(original(*args, **kwargs))


@wrap(_BACKEND, "create_nat_gateway")
def _create_nat_gateway(original: Any, *args: Any, **kwargs: Any) -> Any:
    return _remember(original(*args, **kwargs))


@wrap(_BACKEND, "create_vpc_endpoint")
def _create_vpc_endpoint(original: Any, *args: Any, **kwargs: Any) -> Any:
    return _remember(original(*args, **kwargs))


def _nat_not_found(nat_id: str) -> Exception:
    from moto.ec2.exceptions import EC2ClientError

    return EC2ClientError("NatGatewayNotFound", f"NAT gateway {nat_id} was not found")


def _error(module: str, name: str) -> Callable[[str], Exception]:
    def build(resource_id: str) -> Exception:
        import importlib

        error: Exception = getattr(importlib.import_module(module), name)(resource_id)
        return error

    return build


_EXC = "moto.ec2.exceptions"
# Response method -> (request parameter with the ids, AWS's NotFound error for one id).
BY_ID: dict[tuple[str, str], tuple[str, Callable[[str], Exception]]] = {
    ("moto.ec2.responses.vpcs:VPCs", "describe_vpcs"): (
        "VpcIds",
        _error(_EXC, "InvalidVPCIdError"),
    ),
    ("moto.ec2.responses.vpcs:VPCs", "describe_vpc_endpoints"): (
        "VpcEndpointIds",
        _error(_EXC, "InvalidVpcEndPointIdError"),
    ),
    ("moto.ec2.responses.subnets:Subnets", "describe_subnets"): (
        "SubnetIds",
        _error(_EXC, "InvalidSubnetIdError"),
    ),
    ("moto.ec2.responses.security_groups:SecurityGroups", "describe_security_groups"): (
        "GroupIds",
        _error(_EXC, "InvalidSecurityGroupNotFoundError"),
    ),
    ("moto.ec2.responses.nat_gateways:NatGateways", "describe_nat_gateways"): (
        "NatGatewayIds",
        _nat_not_found,
    ),
}


def _declare_by_id(
    owner: str, name: str, parameter: str, error: Callable[[str], Exception]
) -> None:
    def check(original: Any, self: Any) -> Any:
        for resource_id in self._get_param(parameter, []) or []:
            if too_young(str(resource_id), NOT_FOUND):
                raise error(str(resource_id))
        return original(self)

    check.__name__ = f"_{name}_by_id"
    check.__module__ = __name__
    wrap(owner, name)(check)


for (_owner, _name), (_parameter, _not_found) in BY_ID.items():
    _declare_by_id(_owner, _name, _parameter, _not_found)


@wrap("meshlink.localcloud.patches.connections", "connections_for")
def _visible_connections(
    original: Any, account_id: str, region: str, filters: dict[str, list[str]]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = original(account_id, region, filters)
    return [c for c in found if not too_young(str(c.get("VpcEndpointId")), CONNECTION)]
