"""CloudFormation ``AWS::EC2::VPCEndpointService`` and ``AWS::EC2::VPCEndpointServicePermissions``.

moto 5.2.5 has the API (CreateVpcEndpointServiceConfiguration, ...) but silently skips
both resource types in templates. The service resource is moto's own
``VPCServiceConfiguration`` (already a CloudFormationModel, given a type here); the
permissions resource is a new CloudFormationModel subclass.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches import privatelink
from meshlink.localcloud.patches._util import as_classmethod, patch

# __subclasses__() holds weak references: keep the new model classes alive.
_MODELS: list[type] = []


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return str(value).lower() == "true"


def _lb_arns(properties: dict[str, Any]) -> list[str]:
    return list(properties.get("NetworkLoadBalancerArns") or []) + list(
        properties.get("GatewayLoadBalancerArns") or []
    )


def _define_permissions_model() -> type:
    from moto.core.common_models import CloudFormationModel
    from moto.moto_api._internal import mock_random

    class VPCEndpointServicePermissions(CloudFormationModel):
        """The allowed principals of one endpoint service, owned by a stack."""

        __module__ = "moto.ec2.models.meshlink_permissions"

        def __init__(self, service_id: str, principals: list[str], account_id: str, region: str):
            self.id = f"vpcesp-{mock_random.get_random_hex(length=17)}"
            self.service_id = service_id
            self.principals = principals
            self.account_id = account_id
            self.region = region

        @property
        def physical_resource_id(self) -> str:
            return self.id

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::EC2::VPCEndpointServicePermissions"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return False

        def is_created(self) -> bool:
            return True

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

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> VPCEndpointServicePermissions:
            properties = cloudformation_json.get("Properties") or {}
            resource = cls(
                str(properties["ServiceId"]),
                [str(p) for p in properties.get("AllowedPrincipals") or []],
                account_id,
                region_name,
            )
            resource.apply()
            return resource

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> VPCEndpointServicePermissions:
            properties = cloudformation_json.get("Properties") or {}
            if str(properties["ServiceId"]) != original_resource.service_id:
                original_resource.clear()
                original_resource.service_id = str(properties["ServiceId"])
            original_resource.principals = [
                str(p) for p in properties.get("AllowedPrincipals") or []
            ]
            original_resource.apply()
            updated: VPCEndpointServicePermissions = original_resource
            return updated

        def delete(self, account_id: str, region_name: str) -> None:
            self.clear()

    return VPCEndpointServicePermissions


def install() -> None:
    from moto.ec2.models.vpc_service_configuration import VPCServiceConfiguration

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        from moto.ec2.exceptions import NoLoadBalancersProvided

        properties = cloudformation_json.get("Properties") or {}
        arns = _lb_arns(properties)
        if not arns:
            raise NoLoadBalancersProvided()
        backend = privatelink.ec2(account_id, region_name)
        config = backend.create_vpc_endpoint_service_configuration(
            arns,
            acceptance_required=_bool(properties.get("AcceptanceRequired"), False),
            private_dns_name=None,
            tags=properties.get("Tags") or [],
            supported_regions=[],
        )
        config.contributor_insights = properties.get("ContributorInsightsEnabled")
        return config

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        config = original_resource
        wanted = properties.get("NetworkLoadBalancerArns") or []
        current = list(config.network_load_balancer_arns)
        config.network_load_balancer_arns = [a for a in current if a in wanted] + [
            a for a in wanted if a not in current
        ]
        wanted_gw = properties.get("GatewayLoadBalancerArns") or []
        config.gateway_load_balancer_arns = list(wanted_gw)
        config.acceptance_required = _bool(properties.get("AcceptanceRequired"), False)
        return config

    def delete_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> None:
        privatelink.delete_service(account_id, region_name, resource_name)

    def has_cfn_attr(cls: Any, attr: str) -> bool:
        return attr in ("ServiceId", "ServiceName")

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "ServiceId":
            return self.id
        if attribute_name == "ServiceName":
            return self.service_name
        raise UnformattedGetAttTemplateException()

    patch(
        VPCServiceConfiguration,
        "cloudformation_type",
        staticmethod(lambda: "AWS::EC2::VPCEndpointService"),
    )
    patch(VPCServiceConfiguration, "cloudformation_name_type", staticmethod(lambda: ""))
    patch(VPCServiceConfiguration, "physical_resource_id", property(lambda self: self.id))
    patch(
        VPCServiceConfiguration,
        "create_from_cloudformation_json",
        as_classmethod(create_from_cloudformation_json),
    )
    patch(
        VPCServiceConfiguration,
        "update_from_cloudformation_json",
        as_classmethod(update_from_cloudformation_json),
    )
    patch(
        VPCServiceConfiguration,
        "delete_from_cloudformation_json",
        as_classmethod(delete_from_cloudformation_json),
    )
    patch(VPCServiceConfiguration, "has_cfn_attr", as_classmethod(has_cfn_attr))
    patch(VPCServiceConfiguration, "get_cfn_attribute", get_cfn_attribute)
    patch(VPCServiceConfiguration, "is_created", lambda self: True)
    _MODELS.append(_define_permissions_model())
    refresh_model_cache()


def refresh_model_cache() -> None:
    from moto.cloudformation import parsing

    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
