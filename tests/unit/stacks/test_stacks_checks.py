"""cfn-lint and cdk-nag (AwsSolutions) over every synthesized template of every mesh."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint

from tests.unit.stacks.stacks_helpers import Mesh

# Rules the stacks acknowledge, each with its reason next to the resource in the code.
ACKNOWLEDGED = {
    "AwsSolutions-ELB2",  # NLB access logs
    "AwsSolutions-ECS2",  # non-secret environment variables
    # ecr:GetAuthorizationToken on "*", only where an account runs private ECR images
    "AwsSolutions-IAM5[Resource::*]",
}
# The streams (":*") of each service's own log group, named by ECS when a task starts.
LOG_STREAMS = re.compile(
    r"^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
    r"<AWS::AccountId>:log-group:/meshlink/[a-z0-9-]+/[a-z0-9-]+:\*\]$"
)


def _is_network(mesh: Mesh, construct_path: str) -> bool:
    top = construct_path.split("/", 1)[0]
    return any(s.node.id == top for n, s in mesh.stacks.items() if n.startswith("network:"))


def _shape(value: Any) -> Any:
    """A value reduced to its structure: keys kept, leaves as their types, lists as the
    set of their items' shapes."""
    if isinstance(value, dict):
        return tuple(sorted((key, _shape(item)) for key, item in value.items()))
    if isinstance(value, list):
        return tuple(sorted({_shape(item) for item in value}, key=repr))
    return type(value).__name__


def _template_shape(kind: str, template: dict[str, Any]) -> Any:
    """What cfn-lint's rules judge in a template, names and counts aside: the set of its
    resources' (type, properties' shape), and of its parameters' and outputs' shapes.
    An edge stack with two consumers and one with three have the same shape."""
    sections = {
        section: frozenset(_shape(entry) for entry in (template.get(section) or {}).values())
        for section in ("Parameters", "Outputs")
    }
    resources = frozenset(
        (entry.get("Type"), _shape(entry.get("Properties") or {}), _shape(entry.get("DependsOn")))
        for entry in (template.get("Resources") or {}).values()
    )
    return kind, resources, sections["Parameters"], sections["Outputs"]


def _distinct_templates(meshes: list[Mesh]) -> Iterator[tuple[Mesh, str, dict[str, Any]]]:
    """Each template of `meshes` whose shape no earlier one has: cfn-lint takes seconds a
    template, and most of a mesh's stacks are one template with other names and ports."""
    seen: set[Any] = set()
    for mesh in meshes:
        for node, template in mesh.templates.items():
            shape = _template_shape(node.split(":", 1)[0], template)
            if shape not in seen:
                seen.add(shape)
                yield mesh, node, template


def test_shapes_tell_apart_what_lint_judges() -> None:
    base = {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"A": 1}}}}
    same = {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"A": 2}}}}
    other = {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"A": "1"}}}}
    extra = {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"B": 1}}}}
    renamed = {"Resources": {"Group": same["Resources"]["Sg"]}}
    twice = {"Resources": {**base["Resources"], "Sg2": base["Resources"]["Sg"]}}
    assert len({_template_shape("edge", t) for t in (base, same, renamed, twice)}) == 1
    assert len({_template_shape("edge", t) for t in (base, other, extra)}) == 3
    assert _template_shape("edge", base) != _template_shape("service", base)


def test_cfn_lint_finds_nothing(all_meshes: list[Mesh]) -> None:
    kinds = set()
    for mesh, node, template in _distinct_templates(all_meshes):
        kinds.add(node.split(":", 1)[0])
        matches = lint(json.dumps(template), regions=[mesh.topology.region])
        problems = [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches]
        if node.startswith("network:"):
            # The network stack has its own owner and tests: hold it to errors only.
            problems = [p for p in problems if p.startswith("E")]
        assert problems == [], (node, problems)
    every_kind = {n.split(":", 1)[0] for mesh in all_meshes for n in mesh.templates}
    assert kinds == every_kind


def test_cdk_nag_aws_solutions_passes_on_the_service_stacks(all_meshes: list[Mesh]) -> None:
    for mesh in all_meshes:
        report = AwsSolutionsChecks(mesh.app, verbose=True).validate_scope(mesh.app)
        findings = [
            f"{violation.rule_name} at {resource.construct_path}: {violation.description}"
            for violation in report.violations
            for resource in violation.violating_resources
            if not _is_network(mesh, resource.construct_path)
        ]
        assert findings == [], findings


def _acknowledgements(scope: cdk.Stack) -> dict[str, str]:
    found: dict[str, str] = {}
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                data: dict[str, Any] = entry.data
                for rule, reason in data.items():
                    found[re.sub(r"(?i)^annotation::", "", rule)] = reason
    return found


def test_every_acknowledgement_is_expected_and_justified(full_mesh: Mesh) -> None:
    seen: set[str] = set()
    for node, stack in full_mesh.stacks.items():
        if node.startswith("network:"):
            continue
        for rule, reason in _acknowledgements(stack).items():
            assert len(reason) > 40, (node, rule, reason)
            if LOG_STREAMS.match(rule):
                continue
            assert rule in ACKNOWLEDGED, (node, rule)
            seen.add(rule)
    # payments runs a private ECR image: its account's role needs the ECR login.
    assert seen == ACKNOWLEDGED
    assert "AwsSolutions-IAM5[Resource::*]" in _acknowledgements(full_mesh.stacks["platform:money"])
    assert "AwsSolutions-IAM5[Resource::*]" not in _acknowledgements(
        full_mesh.stacks["platform:retail"]
    )
