"""VPC endpoints to AWS services (``com.amazonaws.<region>.<service>``) as AWS checks them.

moto 5.2.5 accepts any such name, any endpoint type and private DNS in any VPC. AWS:

* the service must exist in the region and offer the endpoint type asked for (``s3``
  and ``dynamodb`` offer ``Gateway``; ``ecr.api``, ``ecr.dkr``, ``logs``, ``sts``, ...
  only ``Interface``): ``InvalidServiceName`` otherwise
  (https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html,
  https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html);
* private DNS on an interface endpoint needs both ``enableDnsSupport`` and
  ``enableDnsHostnames`` on the VPC
  (https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html#private-dns);
* a gateway endpoint has no private DNS: ``PrivateDnsEnabled`` is false.

The data plane's Fargate rule (``dataplane/task_networking.py``) reads what is created
here: the interface endpoints' private DNS and the gateway endpoint's route tables.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches.registry import wrap

CUSTOM_PREFIX = "com.amazonaws.vpce."


def offered_types(account_id: str, region: str, service_name: str) -> set[str]:
    """Endpoint types AWS offers for `service_name` in `region` (empty: no such service)."""
    from moto.ec2.models.vpcs import VPCBackend

    found: set[str] = set()
    details: list[dict[str, Any]] = list(
        VPCBackend._collect_default_endpoint_services(account_id, region)
    )
    for detail in details:
        if detail.get("ServiceName") == service_name:
            found.update(str(t["ServiceType"]).lower() for t in detail.get("ServiceType") or [])
    return found


def is_aws_service(service_name: str) -> bool:
    return service_name.startswith("com.amazonaws.") and not service_name.startswith(CUSTOM_PREFIX)


def flag(value: Any, default: bool) -> bool:
    """A boolean as the API or a template gives it (True, "true", None)."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def check_request(
    ec2: Any, vpc_id: str, service_name: str, endpoint_type: str, private_dns: bool
) -> None:
    """Raise AWS's error for an AWS-service endpoint AWS would refuse."""
    from moto.ec2.exceptions import InvalidParameter, InvalidServiceName

    offered = offered_types(ec2.account_id, ec2.region_name, service_name)
    if endpoint_type not in offered:
        raise InvalidServiceName(service_name)
    if endpoint_type == "interface" and private_dns:
        vpc = ec2.get_vpc(vpc_id)
        if not (flag(vpc.enable_dns_support, True) and flag(vpc.enable_dns_hostnames, False)):
            raise InvalidParameter(
                "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames "
                f"VPC attributes set to true for {vpc_id}"
            )


@wrap("moto.ec2.models.vpcs:VPCBackend", "create_vpc_endpoint")
def _create_vpc_endpoint(
    original: Any, self: Any, vpc_id: str, service_name: str, *args: Any, **kwargs: Any
) -> Any:
    if not is_aws_service(service_name):
        return original(self, vpc_id, service_name, *args, **kwargs)
    endpoint_type = str(kwargs.get("endpoint_type", args[0] if args else None) or "Gateway")
    kind = endpoint_type.lower()
    # The API defaults private DNS to true for an interface endpoint; a template to false
    # (the CloudFormation handler passes the property as it is, None when absent).
    private_dns = kind == "interface" and flag(kwargs.get("private_dns_enabled"), False)
    check_request(self, vpc_id, service_name, kind, private_dns)
    endpoint = original(self, vpc_id, service_name, *args, **kwargs)
    endpoint.private_dns_enabled = private_dns
    return endpoint


@wrap("moto.ec2.models.vpcs:VPCBackend", "delete_vpc_endpoints")
def _delete_vpc_endpoints(original: Any, self: Any, vpce_ids: list[str] | None = None) -> Any:
    # A deleted route table takes the gateway endpoint's route with it, and AWS drops it
    # from the endpoint's RouteTableIds; moto would look for it again here and fail.
    for vpce_id in vpce_ids or []:
        endpoint = self.vpc_end_points.get(vpce_id)
        if endpoint is not None and endpoint.route_table_ids:
            endpoint.route_table_ids = [
                t for t in endpoint.route_table_ids if t in self.route_tables
            ]
    return original(self, vpce_ids)
