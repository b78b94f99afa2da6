"""CloudFormation ``AWS::EC2::VPCEndpointService`` and ``AWS::EC2::VPCEndpointServicePermissions``.

moto 5.2.5 has the API (CreateVpcEndpointServiceConfiguration, ...) but silently skips
both resource types in templates. The service resource is moto's own
``VPCServiceConfiguration`` (already a CloudFormationModel, given a type here); the
permissions resource is a new CloudFormationModel subclass.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches import privatelink
from meshlink.localcloud.patches.registry import (
    CfnCall,
    NewModel,
    Properties,
    cfn,
    cfn_model,
    on_delete,
    replace,
)


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return str(value).lower() == "true"


def _lb_arns(properties: dict[str, Any]) -> list[str]:
    return list(properties.get("NetworkLoadBalancerArns") or []) + list(
        properties.get("GatewayLoadBalancerArns") or []
    )


_SERVICE = "moto.ec2.models.vpc_service_configuration:VPCServiceConfiguration"


@replace(_SERVICE, "cloudformation_type", as_=staticmethod)
def _service_type() -> str:
    return "AWS::EC2::VPCEndpointService"


@replace(_SERVICE, "cloudformation_name_type", as_=staticmethod)
def _service_name_type() -> str:
    return ""


@replace(_SERVICE, "physical_resource_id", as_=property)
def _service_physical_id(self: Any) -> Any:
    return self.id


@replace(_SERVICE, "is_created")
def _service_is_created(self: Any) -> bool:
    return True


@cfn(_SERVICE, "create", backend="ec2")
def _create_service(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    from moto.ec2.exceptions import NoLoadBalancersProvided

    arns = _lb_arns(properties)
    if not arns:
        raise NoLoadBalancersProvided()
    config = ec2.create_vpc_endpoint_service_configuration(
        arns,
        acceptance_required=_bool(properties.get("AcceptanceRequired"), False),
        private_dns_name=None,
        tags=properties.get("Tags") or [],
        supported_regions=[],
    )
    config.contributor_insights = properties.get("ContributorInsightsEnabled")
    return config


@cfn(_SERVICE, "update", backend="ec2")
def _update_service(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    config = call.current
    wanted = properties.get("NetworkLoadBalancerArns") or []
    current = list(config.network_load_balancer_arns)
    config.network_load_balancer_arns = [a for a in current if a in wanted] + [
        a for a in wanted if a not in current
    ]
    wanted_gw = properties.get("GatewayLoadBalancerArns") or []
    config.gateway_load_balancer_arns = list(wanted_gw)
    config.acceptance_required = _bool(properties.get("AcceptanceRequired"), False)
    return config


@cfn(_SERVICE, "delete", backend="ec2")
def _delete_service(properties: Properties, ec2: Any, call: CfnCall) -> None:
    privatelink.delete_service(ec2.account_id, ec2.region_name, call.name)


@replace(_SERVICE, "has_cfn_attr", as_=classmethod)
def _service_has_cfn_attr(cls: Any, attr: str) -> bool:
    return attr in ("ServiceId", "ServiceName")


@replace(_SERVICE, "get_cfn_attribute")
def _service_cfn_attribute(self: Any, attribute_name: str) -> Any:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    if attribute_name == "ServiceId":
        return self.id
    if attribute_name == "ServiceName":
        return self.service_name
    raise UnformattedGetAttTemplateException()


@cfn_model("AWS::EC2::VPCEndpointServicePermissions", module="moto.ec2.models.meshlink_permissions")
class VPCEndpointServicePermissions(NewModel):
    """The allowed principals of one endpoint service, owned by a stack."""

    ID_PREFIX = "vpcesp"

    def __init__(self, service_id: str, principals: list[str], account_id: str, region: str):
        super().__init__()
        self.service_id = service_id
        self.principals = principals
        self.account_id = account_id
        self.region = region

    def apply(self) -> None:
        config = privatelink.ec2(self.account_id, self.region).get_vpc_endpoint_service(
            self.service_id
        )
        if config is None:
            from moto.ec2.exceptions import UnknownVpcEndpointService

            raise UnknownVpcEndpointService(self.service_id)
        config.principals = list(dict.fromkeys(self.principals))

    def clear(self) -> None:
        backend = privatelink.ec2(self.account_id, self.region)
        config = backend.get_vpc_endpoint_service(self.service_id)
        if config is not None:
            config.principals = []


def _principals(properties: Properties) -> list[str]:
    return [str(p) for p in properties.get("AllowedPrincipals") or []]


@cfn(VPCEndpointServicePermissions, "create", backend="ec2")
def _create_permissions(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    resource = call.model(
        str(properties["ServiceId"]), _principals(properties), ec2.account_id, ec2.region_name
    )
    resource.apply()
    return resource


@cfn(VPCEndpointServicePermissions, "update", backend="ec2")
def _update_permissions(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    resource = call.current
    if str(properties["ServiceId"]) != resource.service_id:
        resource.clear()
        resource.service_id = str(properties["ServiceId"])
    resource.principals = _principals(properties)
    resource.apply()
    return resource


@on_delete(VPCEndpointServicePermissions, backend="ec2")
def _delete_permissions(resource: Any, ec2: Any) -> None:
    resource.clear()
