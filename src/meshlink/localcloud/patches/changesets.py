"""Change sets that see parameter changes and what depends on a changed resource.

moto 5.2.5 lists no change when only parameters change, fails ``UsePreviousValue`` of a
list parameter (it reuses the parsed list), and does not update resources that merely
reference a changed one (a Service keeps the old TaskDefinition revision).
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches.registry import replace, wrap


def references(node: Any) -> set[str]:
    """Logical ids a template fragment points at (Ref, Fn::GetAtt, Fn::Sub ${X})."""
    import re

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


def cascade(old: dict[str, Any], new: dict[str, Any], modified: list[str]) -> list[str]:
    """`modified` plus every kept resource that (transitively) references one of them."""
    result = list(modified)
    changed = True
    while changed:
        changed = False
        for name, body in new.items():
            if name in result or name not in old:
                continue
            if references(body) & set(result):
                result.append(name)
                changed = True
    return result


def _stringify(parameters: dict[str, Any]) -> dict[str, str]:
    return {
        key: ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        for key, value in (parameters or {}).items()
    }


def _claim_name(backend: Any, stack_name: str, change_set_name: str) -> None:
    """AWS: a CREATE change set reuses a stack still in review, else the name must be free."""
    from moto.cloudformation.exceptions import AlreadyExistsException

    for stack_id, stack in list(backend.stacks.items()):
        if stack.name != stack_name:
            continue
        if stack.status != "REVIEW_IN_PROGRESS":
            raise AlreadyExistsException(
                f"Stack [{stack_name}] already exists and cannot be created again with the "
                f"changeSet [{change_set_name}]."
            )
        del backend.stacks[stack_id]
        for key, change_set in list(backend.change_sets.items()):
            if change_set.stack_id == stack_id:
                del backend.change_sets[key]


@wrap("moto.cloudformation.parsing:ResourceMap", "build_resource_diff")
def _build_resource_diff(
    original: Any,
    self: Any,
    other_template: dict[str, Any],
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    actions: dict[str, Any] = original(self, other_template, parameters)
    actions["Modify"] = cascade(
        self._resource_json_map, other_template.get("Resources", {}), actions["Modify"]
    )
    return actions


@replace("moto.cloudformation.models:ChangeSet", "diff")
def _diff(self: Any) -> list[Any]:
    from moto.cloudformation.models import Change

    resource_map = self.stack.resource_map
    actions = resource_map.build_resource_diff(self.template_dict, self.parameters)
    new = self.template_dict.get("Resources", {})
    old = resource_map._resource_json_map
    changes = []
    for action, names in actions.items():
        for name in names:
            body = new.get(name) or old.get(name) or {}
            changes.append(Change(action, name, body.get("Type", "")))
    return changes


@wrap("moto.cloudformation.models:CloudFormationBackend", "create_change_set")
def _create_change_set(original: Any, self: Any, **kwargs: Any) -> Any:
    # moto's response handler passes everything by keyword.
    kwargs["parameters"] = _stringify(kwargs.get("parameters") or {})
    if kwargs.get("change_set_type", "CREATE") == "CREATE":
        _claim_name(self, kwargs["stack_name"], kwargs["change_set_name"])
    return original(self, **kwargs)
