"""Security-group rules as CloudFormation resources, with delete (and egress at all).

moto 5.2.5's ``AWS::EC2::SecurityGroupIngress`` is never revoked (a replaced rule then
collides with the old one) and ``AWS::EC2::SecurityGroupEgress`` (which CDK emits for
``connections.allowTo`` when outbound is restricted) is silently skipped.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches._util import patch

# __subclasses__() holds weak references: keep the new model classes alive.
_MODELS: list[type] = []


def rule_arguments(properties: dict[str, Any], peer_key: str) -> dict[str, Any]:
    """authorize_/revoke_security_group_* keyword arguments from CFN properties."""
    peer_group: dict[str, str] = {}
    if properties.get(f"{peer_key}SecurityGroupId"):
        peer_group["GroupId"] = str(properties[f"{peer_key}SecurityGroupId"])
    if properties.get(f"{peer_key}SecurityGroupName"):
        peer_group["GroupName"] = str(properties[f"{peer_key}SecurityGroupName"])
    cidr = properties.get("CidrIp")
    ranges = [{"CidrIp": cidr, "Description": properties.get("Description")}] if cidr else []
    prefix = properties.get(f"{peer_key}PrefixListId")
    return {
        "ip_protocol": str(properties["IpProtocol"]),
        "from_port": properties.get("FromPort"),
        "to_port": properties.get("ToPort"),
        "ip_ranges": ranges,
        "source_groups": [peer_group] if peer_group else [],
        "prefix_list_ids": [{"PrefixListId": prefix}] if prefix else [],
    }


def _define_egress(ec2_backends: Any) -> type:
    from moto.core.common_models import CloudFormationModel
    from moto.moto_api._internal import mock_random

    class SecurityGroupEgress(CloudFormationModel):
        __module__ = "moto.ec2.models.meshlink_egress"

        def __init__(self, group_id: str, properties: dict[str, Any]):
            self.id = f"sgr-{mock_random.get_random_hex(length=17)}"
            self.group_id = group_id
            self.properties = properties

        @property
        def physical_resource_id(self) -> str:
            return self.id

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::EC2::SecurityGroupEgress"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Id"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.id

        def is_created(self) -> bool:
            return True

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> SecurityGroupEgress:
            properties = cloudformation_json.get("Properties") or {}
            group_id = str(properties["GroupId"])
            ec2_backends[account_id][region_name].authorize_security_group_egress(
                group_name_or_id=group_id, **rule_arguments(properties, "Destination")
            )
            return cls(group_id, properties)

        def delete(self, account_id: str, region_name: str) -> None:
            backend = ec2_backends[account_id][region_name]
            if backend.get_security_group_by_name_or_id(self.group_id) is None:
                return
            backend.revoke_security_group_egress(
                group_name_or_id=self.group_id, **rule_arguments(self.properties, "Destination")
            )

    return SecurityGroupEgress


def install() -> None:
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.security_groups import SecurityGroupIngress

    def ingress_delete(self: Any, account_id: str, region_name: str) -> None:
        backend = ec2_backends[account_id][region_name]
        if backend.get_security_group_by_name_or_id(self.security_group.id) is None:
            return
        try:
            backend.revoke_security_group_ingress(
                group_name_or_id=self.security_group.id,
                **rule_arguments(self.properties, "Source"),
            )
        except Exception as error:  # already gone (e.g. the group was emptied)
            if "NotFound" not in type(error).__name__ and "NotFound" not in str(error):
                raise

    patch(SecurityGroupIngress, "delete", ingress_delete)
    patch(
        SecurityGroupIngress,
        "physical_resource_id",
        property(lambda self: f"{self.security_group.id}-ingress"),
    )
    _MODELS.append(_define_egress(ec2_backends))
    from meshlink.localcloud.patches.endpoint_services import refresh_model_cache

    refresh_model_cache()
