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


def _resolve(
    templates: Mapping[str, Mapping[str, Any]], node_stacks: Mapping[str, str], stack: str, key: str
) -> tuple[str, str]:
    """Where a group named in `stack` lives: a parameter traced (Metadata.meshlink) to an
    upstream stack's output that is one of its groups resolves to that group."""
    template = templates[stack]
    source = template.get("Metadata", {}).get("meshlink", {}).get("parameters", {}).get(key)
    if not isinstance(source, Mapping) or "node" not in source or "output" not in source:
        return stack, key
    upstream = node_stacks.get(str(source["node"]))
    if upstream is None or upstream not in templates:
        return stack, key
    output = templates[upstream].get("Outputs", {}).get(str(source["output"]), {})
    group = _group_key(output.get("Value"))
    return (upstream, group) if group is not None else (stack, key)


def mesh_security_group_rules(
    templates: Mapping[str, Mapping[str, Any]], node_stacks: Mapping[str, str]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(inbound, outbound) rules of each group across the mesh, by (stack, logical id):
    a rule another stack adds to a group (through a parameter) counts for that group."""
    totals: dict[tuple[str, str], list[int]] = {}
    for stack, template in templates.items():
        for key, (inbound, outbound) in security_group_rules(template).items():
            entry = totals.setdefault(_resolve(templates, node_stacks, stack, key), [0, 0])
            entry[0] += inbound
            entry[1] += outbound
    return {key: (inbound, outbound) for key, (inbound, outbound) in totals.items()}


def _node_stacks(topology: Topology) -> dict[str, str]:
    """Node id -> its stack name."""
    from meshlink.graph.planner import plan_graph

    return {
        node.id: name
        for node in plan_graph(topology).nodes.values()
        if (name := node.stack_name(topology.name)) is not None
    }


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
    paths = _stack_paths(topology)
    node_stacks = _node_stacks(topology)
    uses: list[QuotaUse] = []
    groups = mesh_security_group_rules(templates, node_stacks)
    for (stack, group), (inbound, outbound) in groups.items():
        if stack not in paths or group not in templates[stack].get("Resources", {}):
            continue  # a group meshlink does not create (a parameter it could not trace)
        account, path = paths[stack]
        limit, applied = limits(account, rules_quota)
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
    for stack, template in templates.items():
        if stack not in paths:
            continue
        account, path = paths[stack]
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
