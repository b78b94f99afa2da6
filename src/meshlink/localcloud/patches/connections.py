"""The provider side of PrivateLink: endpoint connections (missing in moto 5.2.5).

``DescribeVpcEndpointConnections``, ``AcceptVpcEndpointConnections`` and
``RejectVpcEndpointConnections`` act on the caller's own services and move the
consumer endpoint's state; ``DeleteVpcEndpointServiceConfigurations`` refuses
services with active connections, reporting it in ``Unsuccessful`` as AWS does.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches import privatelink
from meshlink.localcloud.patches.registry import replace


def _connection(config: Any, endpoint: Any) -> dict[str, Any]:
    return {
        "ServiceId": config.id,
        "VpcEndpointId": endpoint.id,
        "VpcEndpointOwner": endpoint.ec2_backend.account_id,
        "VpcEndpointState": endpoint.state,
        "CreationTimestamp": endpoint.creation_timestamp,
        "DnsEntries": [
            {"DnsName": e["dns_name"], "HostedZoneId": e["hosted_zone_id"]}
            for e in endpoint.dns_entries or []
        ],
        "NetworkLoadBalancerArns": list(config.network_load_balancer_arns),
        "GatewayLoadBalancerArns": list(config.gateway_load_balancer_arns),
        "IpAddressType": "ipv4",
        "VpcEndpointConnectionId": f"vpce-con-{endpoint.id[5:]}",
        "VpcEndpointRegion": endpoint.ec2_backend.region_name,
        "Tags": privatelink.tags_of(endpoint),
    }


_FILTER_KEYS = {
    "service-id": "ServiceId",
    "vpc-endpoint-owner": "VpcEndpointOwner",
    "vpc-endpoint-state": "VpcEndpointState",
    "vpc-endpoint-id": "VpcEndpointId",
    "ip-address-type": "IpAddressType",
}


def connections_for(
    account_id: str, region: str, filters: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Every connection to a service `account_id` owns, filtered like AWS."""
    found = []
    for config in list(privatelink.ec2(account_id, region).configurations.values()):
        for endpoint in privatelink.endpoints_of(config):
            found.append(_connection(config, endpoint))
    for name, values in filters.items():
        key = _FILTER_KEYS.get(name)
        if key is None:
            from moto.ec2.exceptions import InvalidFilter

            raise InvalidFilter(name)
        wanted = {v.lower() for v in values}
        found = [c for c in found if str(c[key]).lower() in wanted]
    return found


def _own_service(response: Any) -> Any:
    from moto.ec2.exceptions import UnknownVpcEndpointService

    service_id = response._get_param("ServiceId")
    config = response.ec2_backend.configurations.get(service_id)
    if config is None:
        raise UnknownVpcEndpointService(service_id)
    return config


def _transition(response: Any, target: str) -> Any:  # -> ActionResult
    from moto.core.responses import ActionResult

    config = _own_service(response)
    endpoints = {e.id: e for e in privatelink.endpoints_of(config)}
    unsuccessful = []
    for endpoint_id in response._get_param("VpcEndpointIds", []):
        endpoint = endpoints.get(endpoint_id)
        if endpoint is None or endpoint.state == "deleted":
            unsuccessful.append(
                _failure(
                    endpoint_id,
                    "InvalidVpcEndpoint.NotFound",
                    f"The Vpc Endpoint Id '{endpoint_id}' does not exist",
                )
            )
            continue
        allowed_from = (
            ("pendingAcceptance", "available")
            if target == "rejected"
            else ("pendingAcceptance", "available", "rejected")
        )
        if endpoint.state not in allowed_from:
            unsuccessful.append(
                _failure(
                    endpoint_id,
                    "InvalidVpcEndpointState",
                    f"Endpoint {endpoint_id} is in state {endpoint.state}",
                )
            )
            continue
        endpoint.state = target
    return ActionResult({"Unsuccessful": unsuccessful})


def _failure(resource_id: str, code: str, message: str) -> dict[str, Any]:
    return {"ResourceId": resource_id, "Error": {"Code": code, "Message": message}}


_RESPONSES = "moto.ec2.responses.vpc_service_configuration:VPCEndpointServiceConfiguration"


@replace(_RESPONSES, "describe_vpc_endpoint_connections")
def _describe_vpc_endpoint_connections(self: Any) -> Any:  # -> ActionResult
    from moto.core.responses import ActionResult

    filters = self._filters_from_querystring()
    found = connections_for(self.current_account, self.region, filters)
    return ActionResult({"VpcEndpointConnections": found})


@replace(_RESPONSES, "accept_vpc_endpoint_connections")
def _accept_vpc_endpoint_connections(self: Any) -> Any:
    return _transition(self, "available")


@replace(_RESPONSES, "reject_vpc_endpoint_connections")
def _reject_vpc_endpoint_connections(self: Any) -> Any:
    return _transition(self, "rejected")


@replace(_RESPONSES, "delete_vpc_endpoint_service_configurations")
def _delete_vpc_endpoint_service_configurations(self: Any) -> Any:  # -> ActionResult
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import EC2ClientError

    unsuccessful = []
    for service_id in self._get_param("ServiceIds", []):
        try:
            privatelink.delete_service(self.current_account, self.region, service_id)
        except EC2ClientError as error:
            unsuccessful.append(_failure(service_id, error.code, error.message))
    return ActionResult({"Unsuccessful": unsuccessful})
