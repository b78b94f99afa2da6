"""Network resources in CloudFormation as AWS handles them.

* They leave with their stack (a CDK/Terraform-style VPC stack can be deleted): moto 5.2.5
  has no CloudFormation delete for route tables, routes, subnet associations, internet
  gateways and their attachments, NAT gateways, Elastic IPs and flow logs, so the VPC of a
  deleted network stack stays behind (DependencyViolation on its route tables).
* ``AWS::EC2::VPC`` honours ``EnableDnsSupport`` / ``EnableDnsHostnames`` (moto ignores
  them) and updates in place unless ``CidrBlock`` changes; moto has no update, so the VPC
  was replaced, which fails as soon as it has subnets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshlink.localcloud.patches._util import as_classmethod, patch


def _gone(error: Exception) -> bool:
    text = f"{type(error).__name__} {getattr(error, 'code', '')} {error}"
    return "NotFound" in text or "NotAttached" in text or "does not exist" in text


def _tolerant(action: Callable[[], Any]) -> None:
    """Run a delete; a resource that is already gone counts as deleted."""
    try:
        action()
    except Exception as error:
        if not _gone(error):
            raise


def _flag(value: Any, default: bool) -> bool:
    """A template boolean: JSON/YAML ``true`` or the strings ``"true"``/``"false"``."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _apply_vpc_properties(vpc: Any, properties: dict[str, Any]) -> None:
    # An absent property means AWS's default, also when an update removes it.
    vpc.enable_dns_support = _flag(properties.get("EnableDnsSupport"), True)
    vpc.enable_dns_hostnames = _flag(properties.get("EnableDnsHostnames"), False)


def _install_vpc() -> None:
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.vpcs import VPC

    original_create = VPC.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        vpc = original_create(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        _apply_vpc_properties(vpc, cloudformation_json.get("Properties") or {})
        return vpc

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        ec2 = ec2_backends[account_id][region_name]
        properties = cloudformation_json.get("Properties") or {}
        if properties.get("CidrBlock") != original_resource.cidr_block:
            # Replacement, as before this patch (CidrBlock cannot change in place).
            ec2.delete_vpc(original_resource.id)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        tenancy = properties.get("InstanceTenancy", "default")
        if tenancy != original_resource.instance_tenancy:
            ec2.modify_vpc_tenancy(original_resource.id, tenancy)
        _apply_vpc_properties(original_resource, properties)
        stale = {
            tag["key"]: tag["value"]
            for tag in original_resource.get_tags()
            if not str(tag["key"]).startswith("aws:")
        }
        if stale:
            ec2.delete_tags([original_resource.id], stale)
        wanted = {tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])}
        if wanted:
            ec2.create_tags([original_resource.id], wanted)
        return original_resource

    patch(VPC, "create_from_cloudformation_json", as_classmethod(create_from_cloudformation_json))
    patch(VPC, "update_from_cloudformation_json", as_classmethod(update_from_cloudformation_json))


def install() -> None:
    _install_vpc()
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.elastic_ip_addresses import ElasticAddress
    from moto.ec2.models.flow_logs import FlowLogs
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.nat_gateways import NatGateway
    from moto.ec2.models.route_tables import Route, RouteTable
    from moto.ec2.models.subnets import SubnetRouteTableAssociation
    from moto.ec2.models.vpn_gateway import VPCGatewayAttachment

    def backend(account_id: str, region: str) -> Any:
        return ec2_backends[account_id][region]

    def association_delete(self: Any, account_id: str, region: str) -> None:
        ec2 = backend(account_id, region)
        table = ec2.route_tables.get(self.route_table_id)
        if table is None:
            return
        for association_id, target in list(table._associations.items()):
            if target == self.subnet_id:
                table._associations.pop(association_id, None)

    def route_table_delete(self: Any, account_id: str, region: str) -> None:
        _tolerant(lambda: backend(account_id, region).delete_route_table(self.id))

    def route_delete(self: Any, account_id: str, region: str) -> None:
        cidr = self.destination_cidr_block or self.destination_ipv6_cidr_block
        prefix = getattr(self.destination_prefix_list, "id", None)
        _tolerant(
            lambda: backend(account_id, region).delete_route(
                self.route_table.id, cidr, destination_prefix_list_id=prefix
            )
        )

    def attachment_delete(self: Any, account_id: str, region: str) -> None:
        ec2 = backend(account_id, region)
        if self.gateway_id and str(self.gateway_id).startswith("igw-"):
            _tolerant(lambda: ec2.detach_internet_gateway(self.gateway_id, self.vpc_id))

    def igw_delete(self: Any, account_id: str, region: str) -> None:
        _tolerant(lambda: backend(account_id, region).delete_internet_gateway(self.id))

    def nat_delete(self: Any, account_id: str, region: str) -> None:
        ec2 = backend(account_id, region)
        _tolerant(lambda: ec2.delete_nat_gateway(self.id))
        eni_id = getattr(self, "_eni", None)
        eni_id = getattr(eni_id, "id", eni_id)
        if eni_id:
            ec2.enis.pop(eni_id, None)

    def eip_delete(self: Any, account_id: str, region: str) -> None:
        ec2 = backend(account_id, region)
        if self in ec2.addresses:
            self.eni = None
            self.instance = None
            self.association_id = None
            ec2.addresses.remove(self)

    def flow_logs_delete(self: Any, account_id: str, region: str) -> None:
        _tolerant(lambda: backend(account_id, region).delete_flow_logs([self.id]))

    patch(SubnetRouteTableAssociation, "delete", association_delete)
    patch(RouteTable, "delete", route_table_delete)
    patch(Route, "delete", route_delete)
    patch(VPCGatewayAttachment, "delete", attachment_delete)
    patch(InternetGateway, "delete", igw_delete)
    patch(NatGateway, "delete", nat_delete)
    patch(ElasticAddress, "delete", eip_delete)
    patch(FlowLogs, "delete", flow_logs_delete)
