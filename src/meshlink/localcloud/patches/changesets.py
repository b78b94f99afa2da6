"""Change sets that see parameter changes, replacements and what depends on them.

moto 5.2.5 lists no change when only parameters change, fails ``UsePreviousValue`` of a
list parameter (it reuses the parsed list), does not update resources that merely
reference a replaced one (a Service keeps the old TaskDefinition revision), and describes
no ``Replacement`` or ``Details``. What changes is worked out once, in stack_updates,
for both the change set's description and its execution.

moto also reads every template body with PyYAML's pure-Python loader, JSON ones too (JSON
is YAML): about 90 ms for a 15 KB service template on an idle core, a second and more on a
loaded one, all of it inside the server's one lock, and CreateChangeSet did it once (twice
more for an update: ``Stack.has_template``). A JSON body is now read as JSON
(:func:`parse_template`), as CloudFormation reads it; YAML bodies go to moto's loader.
"""

from __future__ import annotations

import json
from typing import Any

from meshlink.engines.cdk.templates import references
from meshlink.localcloud.patches.registry import replace, wrap
from meshlink.localcloud.patches.stack_updates import plan_update

__all__ = ["can_update", "references"]


def _stringify(parameters: dict[str, Any]) -> dict[str, str]:
    return {
        key: ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        for key, value in (parameters or {}).items()
    }


def _claim_name(backend: Any, stack_name: str, change_set_name: str) -> None:
    """AWS: a CREATE change set reuses a stack still in review, else the name must be free.

    AWS refuses it as a ValidationError (not CreateStack's AlreadyExistsException):
    "Stack [x] already exists and cannot be created again with the changeSet [y]"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html:
    ChangeSetType CREATE is for a stack that does not exist; the message as CloudFormation
    gives it, e.g. https://github.com/compose-x/ecs_composex/issues/785).
    """
    from moto.cloudformation.exceptions import ValidationError

    for stack_id, stack in list(backend.stacks.items()):
        if stack.name != stack_name:
            continue
        if stack.status != "REVIEW_IN_PROGRESS":
            raise ValidationError(
                message=f"Stack [{stack_name}] already exists and cannot be created again with "
                f"the changeSet [{change_set_name}]."
            )
        del backend.stacks[stack_id]
        for key, change_set in list(backend.change_sets.items()):
            if change_set.stack_id == stack_id:
                del backend.change_sets[key]


def parse_template(body: Any) -> dict[str, Any] | None:
    """`body` as a template when it is a JSON object (None: not JSON, let YAML read it).

    A JSON document is also YAML, and both readers give the same dict for it, except
    where PyYAML's YAML 1.1 differs from JSON (a number like ``1e5`` stays a string):
    there JSON's reading is CloudFormation's."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


@wrap("moto.cloudformation.models:Stack", "parse_template")
def _parse_template(original: Any, template: Any) -> Any:
    parsed = parse_template(template)
    return parsed if parsed is not None else original(template)


@replace("moto.cloudformation.models:ChangeSet", "_parse_template")
def _change_set_template(self: Any) -> None:
    # moto's ChangeSet reads its body with YAML itself; the Stack's reader, patched above.
    from moto.cloudformation.models import Stack

    self.template_dict = Stack.parse_template(self.template)


def can_update(resource_type: str) -> bool:
    """Whether moto (with our patches) can change a resource of this type in place."""
    from moto.cloudformation import parsing

    resource_class = parsing.resource_class_from_type(resource_type)
    if resource_class is None:
        return True  # moto ignores the type: nothing to replace either
    return not hasattr(resource_class.update_from_cloudformation_json, "__isabstractmethod__")


@replace("moto.cloudformation.parsing:ResourceMap", "build_resource_diff")
def _build_resource_diff(
    self: Any, other_template: dict[str, Any], parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    plan = plan_update(self, other_template, parameters, can_update)
    return {"Add": plan.add, "Modify": list(plan.modify), "Remove": plan.remove}


@replace("moto.cloudformation.models:ChangeSet", "diff")
def _diff(self: Any) -> list[Any]:
    """The change set's changes as DescribeChangeSet gives them: with Replacement and the
    property-level Details (see stack_updates)."""
    from moto.cloudformation.models import Change

    resource_map = self.stack.resource_map
    plan = plan_update(resource_map, self.template_dict, self.parameters, can_update)
    new = self.template_dict.get("Resources", {})
    old = resource_map._resource_json_map
    changes = []
    for name in plan.add:
        changes.append(Change("Add", name, new[name].get("Type", "")))
    for name, update in plan.modify.items():
        change = Change("Modify", name, update.resource_type)
        physical = getattr(resource_map._parsed_resources.get(name), "physical_resource_id", None)
        for key, value in update.change(physical).items():
            setattr(change, key, value)
        changes.append(change)
    for name in plan.remove:
        changes.append(Change("Remove", name, old[name].get("Type", "")))
    return changes


@wrap("moto.cloudformation.models:CloudFormationBackend", "create_change_set")
def _create_change_set(original: Any, self: Any, **kwargs: Any) -> Any:
    # moto's response handler passes everything by keyword.
    kwargs["parameters"] = _stringify(kwargs.get("parameters") or {})
    if kwargs.get("change_set_type", "CREATE") == "CREATE":
        _claim_name(self, kwargs["stack_name"], kwargs["change_set_name"])
    return original(self, **kwargs)
