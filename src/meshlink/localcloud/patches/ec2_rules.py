"""Security-group rules as CloudFormation resources, with delete (and egress at all).

moto 5.2.5's ``AWS::EC2::SecurityGroupIngress`` is never revoked (a replaced rule then
collides with the old one) and ``AWS::EC2::SecurityGroupEgress`` (which CDK emits for
``connections.allowTo`` when outbound is restricted) is silently skipped.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches.registry import (
    CfnCall,
    NewModel,
    Properties,
    cfn,
    cfn_model,
    on_delete,
    replace,
)


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


_INGRESS = "moto.ec2.models.security_groups:SecurityGroupIngress"


@on_delete(_INGRESS, backend="ec2")
def _delete_ingress(rule: Any, ec2: Any) -> None:
    if ec2.get_security_group_by_name_or_id(rule.security_group.id) is None:
        return
    try:
        ec2.revoke_security_group_ingress(
            group_name_or_id=rule.security_group.id,
            **rule_arguments(rule.properties, "Source"),
        )
    except Exception as error:  # already gone (e.g. the group was emptied)
        if "NotFound" not in type(error).__name__ and "NotFound" not in str(error):
            raise


@replace(_INGRESS, "physical_resource_id", as_=property)
def _ingress_physical_id(self: Any) -> str:
    return f"{self.security_group.id}-ingress"


@cfn_model("AWS::EC2::SecurityGroupEgress", module="moto.ec2.models.meshlink_egress")
class SecurityGroupEgress(NewModel):
    ID_PREFIX = "sgr"
    CFN_ATTRIBUTE = "Id"

    def __init__(self, group_id: str, properties: dict[str, Any]):
        super().__init__()
        self.group_id = group_id
        self.properties = properties


@cfn(SecurityGroupEgress, "create", backend="ec2")
def _create_egress(properties: Properties, ec2: Any, call: CfnCall) -> Any:
    group_id = str(properties["GroupId"])
    ec2.authorize_security_group_egress(
        group_name_or_id=group_id, **rule_arguments(properties, "Destination")
    )
    return call.model(group_id, properties)


@on_delete(SecurityGroupEgress, backend="ec2")
def _delete_egress(rule: Any, ec2: Any) -> None:
    if ec2.get_security_group_by_name_or_id(rule.group_id) is None:
        return
    destination = rule.properties.get("DestinationSecurityGroupId")
    if destination and ec2.get_security_group_by_name_or_id(str(destination)) is None:
        # moto deletes a stack's resources in no particular order and, unlike AWS, lets
        # a group go while another group's rule still names it: the rule went with it.
        return
    try:
        ec2.revoke_security_group_egress(
            group_name_or_id=rule.group_id, **rule_arguments(rule.properties, "Destination")
        )
    except Exception as error:  # already gone, as _delete_ingress: the group took it along
        if "NotFound" not in type(error).__name__ and "NotFound" not in str(error):
            raise
