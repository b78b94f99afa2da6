"""Quota use only the synthesized templates show: rules per security group, template size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshlink.quotas.check import Limits, QuotaUse
from meshlink.quotas.limits import QUOTAS
from meshlink.topology.locations import PathKey
from meshlink.topology.model import Topology

INGRESS = "AWS::EC2::SecurityGroupIngress"
EGRESS = "AWS::EC2::SecurityGroupEgress"
GROUP = "AWS::EC2::SecurityGroup"


def _group_key(group_id: Any) -> str | None:
    """The logical id (or parameter name) a rule's GroupId names."""
    if isinstance(group_id, Mapping):
        if "Ref" in group_id:
            return str(group_id["Ref"])
        if "Fn::GetAtt" in group_id:
            return str(group_id["Fn::GetAtt"][0])
    return None


def security_group_rules(template: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """(inbound, outbound) rules of each security group the template creates or adds to.

    A group whose template lists no egress gets CloudFormation's allow-all egress rule.
    """
    counts: dict[str, list[int]] = {}
    resources: Mapping[str, Any] = template.get("Resources", {})
    for logical_id, resource in resources.items():
        if resource.get("Type") == GROUP:
            props = resource.get("Properties", {})
            egress = props.get("SecurityGroupEgress")
            counts[logical_id] = [
                len(props.get("SecurityGroupIngress", [])),
                1 if egress is None else len(egress),
            ]
    for resource in resources.values():
        kind = resource.get("Type")
        if kind not in (INGRESS, EGRESS):
            continue
        key = _group_key(resource.get("Properties", {}).get("GroupId"))
        if key is None:
            continue
        entry = counts.setdefault(key, [0, 0])
        entry[0 if kind == INGRESS else 1] += 1
    return {key: (inbound, outbound) for key, (inbound, outbound) in counts.items()}


def _stack_paths(topology: Topology) -> dict[str, tuple[str, PathKey]]:
    """Stack name -> (its account key, where its subject is written in the file)."""
    from meshlink.graph.planner import plan_graph

    paths: dict[str, tuple[str, PathKey]] = {}
    for node in plan_graph(topology).nodes.values():
        name = node.stack_name(topology.name)
        if name is None:
            continue
        group = "accounts" if node.kind in ("network", "platform") else "services"
        paths[name] = (node.account, (group, node.subject))
    return paths


def template_uses(
    topology: Topology,
    templates: Mapping[str, Mapping[str, Any]],
    limits: Limits,
    uploads_large_templates: bool,
) -> list[QuotaUse]:
    from meshlink.engines.cdk.templates import template_body

    rules_quota = QUOTAS["rules_per_security_group"]
    size_quota = QUOTAS["template_body_bytes"]
    uses: list[QuotaUse] = []
    paths = _stack_paths(topology)
    for stack, template in templates.items():
        if stack not in paths:
            continue
        account, path = paths[stack]
        limit, applied = limits(account, rules_quota)
        for group, (inbound, outbound) in security_group_rules(template).items():
            direction = "inbound" if inbound >= outbound else "outbound"
            uses.append(
                QuotaUse(
                    rules_quota,
                    account,
                    f"security group {group} of stack {stack} ({direction} rules)",
                    max(inbound, outbound),
                    limit,
                    applied,
                    path,
                )
            )
        size = len(template_body(template).encode("utf-8"))
        uses.append(
            QuotaUse(
                size_quota,
                account,
                f"the template of stack {stack}",
                size,
                size_quota.default,
                False,
                path,
                note=(
                    "meshlink uploads a template this big to S3 and deploys it by TemplateURL: "
                    "not a blocker"
                    if uploads_large_templates
                    else "meshlink sends templates inline"
                ),
                blocking=not uploads_large_templates,
            )
        )
    return uses
