"""What a stack update changes, and how it runs and rolls back, as on AWS.

AWS CloudFormation, "Update behaviors of stack resources"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html):
a property marked "Update requires: Replacement" makes CloudFormation create the new
resource first, point its dependants at it, and delete the old one only while the stack
is ``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS``; resources removed from the template also go
then. A resource with a custom name cannot be replaced
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html).
A failed update rolls back to the previous template: new resources are deleted, updated
ones get their previous properties, replaced ones are kept
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-monitor-stack.html,
``UPDATE_ROLLBACK_IN_PROGRESS`` -> ``UPDATE_ROLLBACK_COMPLETE``).
Change sets describe each change as DescribeChangeSet does: ``Replacement`` and
``Details[].Target`` (Attribute, Name, RequiresRecreation, Path, BeforeValue, AfterValue;
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceTargetDefinition.html).

moto 5.2.5 deleted removed resources first, updated in place what it could (a target
group keeps its old port), and deleted a resource it could not update before creating the
new one (a target group still used by a listener: ResourceInUse, half-applied stack).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshlink.engines.cdk.templates import references

# Properties whose change requires replacement ("Update requires: Replacement"), per
# resource type: each type's createOnlyProperties in the CloudFormation resource schemas
# (https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html),
# as cfn-lint ships them; paths below the top level ("DnsOptions/PrivateDnsPreference")
# replace only when that part changes. tests/unit/localcloud/test_create_only.py keeps
# the file equal to the schemas and regenerates it.
CREATE_ONLY_FILE = Path(__file__).with_name("create_only.json")


@functools.cache
def create_only() -> dict[str, tuple[str, ...]]:
    """Create-only property paths by resource type (the schemas' createOnlyProperties)."""
    table = json.loads(CREATE_ONLY_FILE.read_text(encoding="utf-8"))
    return {kind: tuple(paths) for kind, paths in table["types"].items()}


def _at(value: Any, path: list[str]) -> Any:
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def recreation(resource_type: str, name: str, before: Any, after: Any) -> str:
    """``Always`` when changing property `name` from `before` to `after` replaces the
    resource, else ``Never`` (DescribeChangeSet's RequiresRecreation)."""
    for path in create_only().get(resource_type, ()):
        head, *rest = path.split("/")
        if head != name:
            continue
        if not rest or _at(before, rest) != _at(after, rest):
            return "Always"
    return "Never"


# The property that names a resource when the template sets it (a custom name).
NAMED_BY: dict[str, str] = {
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ECS::Service": "ServiceName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
}


@dataclass
class PropertyChange:
    """One property of a resource that the update changes, and why."""

    name: str
    source: str  # DirectModification | ParameterReference | ResourceReference
    recreation: str  # Always | Never
    before: Any = None
    after: Any = None
    causing: str | None = None

    def detail(self) -> dict[str, Any]:
        """As a DescribeChangeSet ``ResourceChangeDetail``."""
        kind = "Add" if self.before is None else "Remove" if self.after is None else "Modify"
        target: dict[str, Any] = {
            "Attribute": "Properties",
            "Name": self.name,
            "RequiresRecreation": self.recreation,
            "Path": f"/Properties/{self.name}",
            "AttributeChangeType": kind,
        }
        if self.before is not None:
            target["BeforeValue"] = _text(self.before)
        if self.after is not None:
            target["AfterValue"] = _text(self.after)
        detail: dict[str, Any] = {
            "Target": target,
            "Evaluation": "Static" if self.source != "ResourceReference" else "Dynamic",
            "ChangeSource": self.source,
        }
        if self.causing:
            detail["CausingEntity"] = self.causing
        return detail


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


@dataclass
class ResourceUpdate:
    """How one resource of the stack changes."""

    logical_id: str
    resource_type: str
    action: str  # Add | Modify | Remove
    replace: bool = False
    properties: list[PropertyChange] = field(default_factory=list)
    recreate: bool = False  # moto cannot update the type in place: delete, then create

    def change(self, physical_id: str | None) -> dict[str, Any]:
        """Keyword arguments of the local cloud's change record (DescribeChangeSet shape)."""
        return {
            "replacement": ("True" if self.replace else "False")
            if self.action == "Modify"
            else None,
            "scope": ["Properties"] if self.properties else [],
            "details": [p.detail() for p in self.properties],
            "physical_resource_id": physical_id,
        }


@dataclass
class UpdatePlan:
    """Every change of one stack update, in the order they are made."""

    add: list[str] = field(default_factory=list)
    modify: dict[str, ResourceUpdate] = field(default_factory=dict)  # in dependency order
    remove: list[str] = field(default_factory=list)

    @property
    def replaced(self) -> set[str]:
        return {name for name, update in self.modify.items() if update.replace}


def _stringify(parameters: dict[str, Any] | None) -> dict[str, str]:
    return {
        key: ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        for key, value in (parameters or {}).items()
    }


def _changed_parameters(
    old: dict[str, Any], new: dict[str, Any] | None
) -> dict[str, tuple[str | None, str | None]]:
    if new is None:
        return {}
    before, after = _stringify(old), _stringify(new)
    return {
        key: (before.get(key), after.get(key))
        for key in set(before) | set(after)
        if before.get(key) != after.get(key)
    }


def _property_changes(
    resource_type: str,
    old: dict[str, Any],
    new: dict[str, Any],
    parameters: dict[str, tuple[str | None, str | None]],
    replaced: set[str],
) -> list[PropertyChange]:
    before = old.get("Properties") or {}
    after = new.get("Properties") or {}
    found: list[PropertyChange] = []
    for name in sorted(set(before) | set(after)):
        value_before, value_after = before.get(name), after.get(name)
        if value_before != value_after:
            how = recreation(resource_type, name, value_before, value_after)
            found.append(PropertyChange(name, "DirectModification", how, value_before, value_after))
            continue
        # A value that changes through a reference: replaced if any part of it is create-only.
        recreates = any(path.split("/")[0] == name for path in create_only().get(resource_type, ()))
        how = "Always" if recreates else "Never"
        refs = references(value_after)
        for parameter in sorted(refs & set(parameters)):
            was, now = parameters[parameter]
            plain = value_after == {"Ref": parameter}
            found.append(
                PropertyChange(
                    name,
                    "ParameterReference",
                    how,
                    was if plain else value_before,
                    now if plain else value_after,
                    parameter,
                )
            )
            break
        else:
            causes = sorted(refs & replaced)
            if causes:
                found.append(PropertyChange(name, "ResourceReference", how, causing=causes[0]))
    return found


def plan_update(
    resource_map: Any,
    template: dict[str, Any],
    parameters: dict[str, Any] | None,
    can_update: Callable[[str], bool],
) -> UpdatePlan:
    """What updating the stack of `resource_map` to `template` changes.

    `can_update(type)`: whether the local cloud can change that type in place (else it
    replaces it, whatever the property).
    """
    old: dict[str, Any] = resource_map._resource_json_map
    new: dict[str, Any] = template.get("Resources", {})
    changed = _changed_parameters(resource_map.input_parameters, parameters)
    plan = UpdatePlan(
        add=[name for name in new if name not in old],
        # Dependants first, as AWS deletes them: a rule before the group it names.
        remove=_dependency_order(old, [name for name in old if name not in new])[::-1],
    )
    updates: dict[str, ResourceUpdate] = {}
    while True:  # a replacement changes what refers to it: until nothing more changes
        # What gets a new physical resource: what refers to it changes too.
        replaced = {name for name, u in updates.items() if u.replace or u.recreate}
        found = {}
        for name, body in new.items():
            if name not in old:
                continue
            kind = str(body.get("Type", ""))
            properties = _property_changes(kind, old[name], body, changed, replaced)
            if not properties and body == old[name]:
                continue
            replace = any(p.recreation == "Always" for p in properties)
            # AWS updates it in place; moto cannot: deleted and created again (recreate).
            recreate = not replace and not can_update(kind)
            found[name] = ResourceUpdate(name, kind, "Modify", replace, properties, recreate)
        settled = found.keys() == updates.keys() and replaced == {
            n for n, u in found.items() if u.replace or u.recreate
        }
        updates = found
        if settled:
            break
    plan.modify = {name: updates[name] for name in _dependency_order(new, list(updates))}
    return plan


def _dependency_order(resources: dict[str, Any], names: list[str]) -> list[str]:
    """`names`, each after the ones (of `names`) it refers to."""
    ordered: list[str] = []
    pending = list(names)
    while pending:
        for name in pending:
            needs = references(resources[name]) & set(pending) - {name}
            if not needs:
                ordered.append(name)
                pending.remove(name)
                break
        else:  # a cycle: keep the template's order
            ordered.extend(pending)
            break
    return ordered


class CustomNameReplacement(Exception):
    """AWS's refusal to replace a resource that has a custom name."""

    def __init__(self, logical_id: str, resource_type: str, name: str) -> None:
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.message = (
            "CloudFormation cannot update a stack when a custom-named resource requires "
            f"replacing. Rename {name} and update the stack again."
        )
        super().__init__(self.message)


@dataclass
class Applied:
    """What an update has done so far: undone on rollback."""

    replaced: dict[str, Any] = field(default_factory=dict)  # logical id -> old resource
    updated: list[str] = field(default_factory=list)
    recreated: list[str] = field(default_factory=list)


@dataclass
class Before:
    template: Any
    parameters: Any
    resources: dict[str, Any]
    parsed: dict[str, Any]


def _switch(resource_map: Any, template: Any, parameters: Any, resources: dict[str, Any]) -> None:
    resource_map._template = template
    resource_map.input_parameters = parameters
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = resources


def _check_name(update: ResourceUpdate, old: dict[str, Any], new: dict[str, Any]) -> None:
    prop = NAMED_BY.get(update.resource_type)
    name = (new.get("Properties") or {}).get(prop) if prop else None
    if name is not None and name == (old.get("Properties") or {}).get(prop):
        raise CustomNameReplacement(update.logical_id, update.resource_type, str(name))


def run_update(
    resource_map: Any,
    template: dict[str, Any],
    parameters: dict[str, Any] | None,
    plan: UpdatePlan,
    update_in_place: Callable[[str, dict[str, Any]], Any],
    rolling_back: Callable[[BaseException], None] | None = None,
) -> Callable[[], None]:
    """Make the changes of `plan`; on failure say `rolling_back(error)`, roll back, re-raise
    (`rolling_back` None: a create, which its caller undoes by deleting the stack's all).

    Returns the cleanup (old replaced resources and removed ones), which the caller runs
    once the stack has reached UPDATE_COMPLETE_CLEANUP_IN_PROGRESS.
    """
    before = Before(
        resource_map._template,
        resource_map.input_parameters,
        resource_map._resource_json_map,
        dict(resource_map._parsed_resources),
    )
    new = template.get("Resources", {})
    _switch(
        resource_map,
        template,
        parameters if parameters else resource_map.input_parameters,
        {**new, **{n: before.resources[n] for n in plan.remove}},
    )
    applied = Applied()
    try:
        for name in plan.add:
            _ = resource_map[name]  # moto creates a resource on first access
        for name, update in plan.modify.items():
            if update.replace:
                _check_name(update, before.resources[name], new[name])
                applied.replaced[name] = resource_map._parsed_resources.pop(name, None)
                _ = resource_map[name]
            elif update.recreate:
                applied.recreated.append(name)
                old = resource_map._parsed_resources.pop(name, None)
                if old is not None:
                    resource_map._delete_resource(old, before.resources[name])
                _ = resource_map[name]
            else:
                applied.updated.append(name)
                resource_map._parsed_resources[name] = update_in_place(name, new[name])
    except Exception as error:
        if rolling_back is not None:
            rolling_back(error)
            _roll_back(resource_map, before, applied, update_in_place)
        raise

    return functools.partial(_clean_up, resource_map, before, applied, plan, new)


def _clean_up(
    resource_map: Any, before: Before, applied: Applied, plan: UpdatePlan, new: dict[str, Any]
) -> None:
    """UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: the replaced and the removed resources go."""
    for name, old in applied.replaced.items():
        if old is not None:
            with contextlib.suppress(Exception):
                resource_map._delete_resource(old, before.resources[name])
    for name in plan.remove:
        resource = resource_map._parsed_resources.pop(name, None)
        if resource is not None:
            with contextlib.suppress(Exception):
                resource_map._delete_resource(resource, before.resources[name])
    resource_map._resource_json_map = new


def _roll_back(
    resource_map: Any,
    before: Before,
    applied: Applied,
    update_in_place: Callable[[str, dict[str, Any]], Any],
) -> None:
    """Back to the previous template: new resources deleted, the previous ones in use."""
    current = resource_map._resource_json_map
    # Everything this update created, also what moto created on first reference (the
    # dependencies of a resource); resources updated in place get their old properties.
    new = [
        name
        for name, resource in resource_map._parsed_resources.items()
        if name in current
        and name not in applied.updated
        and resource is not None
        and resource is not before.parsed.get(name)
    ]
    for _ in range(len(new) + 1):  # dependants first; what still has dependants, next pass
        left = []
        for name in reversed(new):
            try:
                resource_map._delete_resource(resource_map._parsed_resources[name], current[name])
            except Exception:
                left.append(name)
        new = list(reversed(left))
        if not new:
            break
    _switch(resource_map, before.template, before.parameters, before.resources)
    resource_map._parsed_resources.clear()
    resource_map._parsed_resources.update(before.parsed)
    for name in reversed(applied.updated):
        with contextlib.suppress(Exception):
            resource_map._parsed_resources[name] = update_in_place(name, before.resources[name])
    for name in reversed(applied.recreated):  # deleted by the update: created again
        resource_map._parsed_resources.pop(name, None)
        with contextlib.suppress(Exception):
            _ = resource_map[name]
