"""Network resources in CloudFormation as AWS handles them.

* They leave with their stack (a CDK/Terraform-style VPC stack can be deleted): moto 5.2.5
  has no CloudFormation delete for route tables, routes, subnet associations, internet
  gateways and their attachments, NAT gateways, Elastic IPs and flow logs, so the VPC of a
  deleted network stack stays behind (DependencyViolation on its route tables).
* A deleted NAT gateway's network interface goes with it, whoever deletes it (moto keeps it).
* ``AWS::EC2::SubnetRouteTableAssociation`` associates the subnet with the table (moto
  only records it apart).
* ``AWS::EC2::VPC`` honours ``EnableDnsSupport`` / ``EnableDnsHostnames`` (moto ignores
  them) and updates in place unless ``CidrBlock`` changes; moto has no update, so the VPC
  was replaced, which fails as soon as it has subnets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshlink.localcloud.patches.registry import CfnCall, Properties, cfn, on_delete, wrap


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


_VPC = "moto.ec2.models.vpcs:VPC"


@cfn(_VPC, "create", backend="ec2")
def _create_vpc(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    vpc = call.moto(call.template)
    _apply_vpc_properties(vpc, properties)
    return vpc


@cfn(_VPC, "update", backend="ec2")
def _update_vpc(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    vpc = call.current
    if properties.get("CidrBlock") != vpc.cidr_block:
        # Replacement, as before this patch (CidrBlock cannot change in place).
        ec2.delete_vpc(vpc.id)
        return call.model.create_from_cloudformation_json(
            call.name, call.template, ec2.account_id, ec2.region_name
        )
    tenancy = properties.get("InstanceTenancy", "default")
    if tenancy != vpc.instance_tenancy:
        ec2.modify_vpc_tenancy(vpc.id, tenancy)
    _apply_vpc_properties(vpc, properties)
    _replace_tags(ec2, vpc, properties)
    return vpc


def _replace_tags(ec2: Any, vpc: Any, properties: Properties) -> None:
    stale = {
        tag["key"]: tag["value"] for tag in vpc.get_tags() if not str(tag["key"]).startswith("aws:")
    }
    if stale:
        ec2.delete_tags([vpc.id], stale)
    wanted = {tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])}
    if wanted:
        ec2.create_tags([vpc.id], wanted)


@cfn("moto.ec2.models.subnets:SubnetRouteTableAssociation", "create", backend="ec2")
def _create_association(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    """The subnet uses the table, as DescribeRouteTables then shows (its Associations).

    moto 5.2.5 files a CloudFormation association apart from the table, so the subnet
    kept the VPC's main table: a private subnet had no route to its NAT gateway
    (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-route-tables.html).
    """
    table, subnet = str(properties["RouteTableId"]), str(properties["SubnetId"])
    ec2.associate_route_table(table, subnet_id=subnet)
    return call.model(table, subnet)


@on_delete("moto.ec2.models.subnets:SubnetRouteTableAssociation", backend="ec2")
def _delete_association(association: Any, ec2: Any) -> None:
    table = ec2.route_tables.get(association.route_table_id)
    if table is None:
        return
    for association_id, target in list(table._associations.items()):
        if target == association.subnet_id:
            table._associations.pop(association_id, None)


@on_delete("moto.ec2.models.route_tables:RouteTable", backend="ec2")
def _delete_route_table(table: Any, ec2: Any) -> None:
    _tolerant(lambda: ec2.delete_route_table(table.id))


@on_delete("moto.ec2.models.route_tables:Route", backend="ec2")
def _delete_route(route: Any, ec2: Any) -> None:
    cidr = route.destination_cidr_block or route.destination_ipv6_cidr_block
    prefix = getattr(route.destination_prefix_list, "id", None)
    _tolerant(
        lambda: ec2.delete_route(route.route_table.id, cidr, destination_prefix_list_id=prefix)
    )


@on_delete("moto.ec2.models.vpn_gateway:VPCGatewayAttachment", backend="ec2")
def _delete_attachment(attachment: Any, ec2: Any) -> None:
    if attachment.gateway_id and str(attachment.gateway_id).startswith("igw-"):
        _tolerant(lambda: ec2.detach_internet_gateway(attachment.gateway_id, attachment.vpc_id))


@on_delete("moto.ec2.models.internet_gateways:InternetGateway", backend="ec2")
def _delete_internet_gateway(gateway: Any, ec2: Any) -> None:
    _tolerant(lambda: ec2.delete_internet_gateway(gateway.id))


@on_delete("moto.ec2.models.nat_gateways:NatGateway", backend="ec2")
def _delete_nat_gateway(gateway: Any, ec2: Any) -> None:
    _tolerant(lambda: ec2.delete_nat_gateway(gateway.id))


@wrap("moto.ec2.models:EC2Backend", "delete_nat_gateway")
def _delete_nat_gateway_interface(original: Any, ec2: Any, nat_gateway_id: str) -> Any:
    """DeleteNatGateway takes the gateway's network interface with it, as on AWS ("When
    you delete a NAT gateway, its network interface is deleted", NAT gateway basics,
    https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html); moto
    keeps it, in a VPC that may be gone (through CloudFormation or Terraform alike)."""
    gateway = original(ec2, nat_gateway_id)
    eni = getattr(gateway, "_eni", None)
    ec2.enis.pop(getattr(eni, "id", eni), None)
    return gateway


@on_delete("moto.ec2.models.elastic_ip_addresses:ElasticAddress", backend="ec2")
def _delete_elastic_ip(address: Any, ec2: Any) -> None:
    if address in ec2.addresses:
        address.eni = None
        address.instance = None
        address.association_id = None
        ec2.addresses.remove(address)


@on_delete("moto.ec2.models.flow_logs:FlowLogs", backend="ec2")
def _delete_flow_logs(flow_logs: Any, ec2: Any) -> None:
    _tolerant(lambda: ec2.delete_flow_logs([flow_logs.id]))
