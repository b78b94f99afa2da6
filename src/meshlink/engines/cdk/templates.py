"""Template-side helpers of the deployer: body, parameter checks, change records, its error."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from meshlink.engines.cdk.events import PropertyChange, ResourceChange
from meshlink.errors import DeployError


class StackDeployError(DeployError):
    """A stack operation failed; names the failing resource and CloudFormation's reason."""

    def __init__(
        self,
        *,
        stack: str,
        reason: str,
        logical_id: str | None = None,
        resource_type: str | None = None,
        status: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.stack = stack
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason
        self.status = status
        where = f"{logical_id} ({resource_type})" if logical_id else "the stack"
        super().__init__(f"stack {stack}: {where} failed: {reason}", hint=hint)


class TemplateStore(Protocol):
    """Where a template too large to pass inline is staged (deploy/template_bucket.py)."""

    def put(self, stack_name: str, body: str) -> str:
        """Upload; the URL CloudFormation reads the template from."""
        ...

    def discard(self, url: str) -> None:
        """CloudFormation has read it: delete it."""
        ...


def template_body(template: Mapping[str, Any] | str) -> str:
    return template if isinstance(template, str) else json.dumps(template, separators=(",", ":"))


def template_fingerprint(
    template: Mapping[str, Any] | str, parameters: Mapping[str, str] | None = None
) -> str:
    """A stable digest of a template and its parameter values (the journal's skip test)."""
    parsed = json.loads(template) if isinstance(template, str) else template
    canonical = json.dumps(
        {"template": parsed, "parameters": dict(parameters or {})},
        sort_keys=True,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def check_parameters(
    stack_name: str, template: Mapping[str, Any] | str, parameters: Mapping[str, str]
) -> None:
    """Refuse unknown and missing parameters before CloudFormation is asked anything."""
    parsed = json.loads(template) if isinstance(template, str) else template
    declared: dict[str, Any] = parsed.get("Parameters") or {}
    unknown = sorted(set(parameters) - set(declared))
    missing = sorted(
        name
        for name, spec in declared.items()
        if name not in parameters and "Default" not in (spec or {})
    )
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"parameters not in the template: {', '.join(unknown)}")
        if missing:
            parts.append(f"parameters without a value: {', '.join(missing)}")
        raise StackDeployError(
            stack=stack_name,
            reason="; ".join(parts),
            hint="the upstream outputs and the synthesized template disagree: synthesize again",
        )


def resource_change(raw: dict[str, Any]) -> ResourceChange:
    change = raw.get("ResourceChange", {})
    return ResourceChange(
        action=str(change.get("Action", "")),
        logical_id=str(change.get("LogicalResourceId", "")),
        resource_type=str(change.get("ResourceType", "")),
        replacement=change.get("Replacement") or None,
        physical_id=change.get("PhysicalResourceId") or None,
        details=tuple(property_change(d) for d in change.get("Details") or []),
    )


def property_change(raw: dict[str, Any]) -> PropertyChange:
    """A DescribeChangeSet ``ResourceChangeDetail`` (values only with IncludePropertyValues)."""
    target = raw.get("Target") or {}
    return PropertyChange(
        name=str(target.get("Name") or target.get("Attribute") or ""),
        attribute=str(target.get("Attribute") or "Properties"),
        requires_recreation=target.get("RequiresRecreation") or None,
        source=raw.get("ChangeSource") or None,
        causing_entity=raw.get("CausingEntity") or None,
        before=target.get("BeforeValue"),
        after=target.get("AfterValue"),
    )


def additions(template: Mapping[str, Any] | str) -> tuple[ResourceChange, ...]:
    parsed = json.loads(template) if isinstance(template, str) else template
    return tuple(
        ResourceChange("Add", logical_id, str(resource.get("Type", "")))
        for logical_id, resource in parsed.get("Resources", {}).items()
    )


def references(node: Any) -> set[str]:
    """Logical ids (and parameters) a template fragment points at: Ref, GetAtt, Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", str(text)))
                found |= references(value)
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found
