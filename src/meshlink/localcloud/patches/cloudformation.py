"""CloudFormation lifecycle closer to AWS than moto 5.2.5's.

* Stacks created or updated through a change set get their ``Outputs`` (and exports).
* A failing resource no longer turns the API call into an HTTP 500: the stack ends
  ``ROLLBACK_COMPLETE`` / ``UPDATE_ROLLBACK_COMPLETE`` / ``DELETE_FAILED`` with the
  AWS error in the events' ``ResourceStatusReason``, as deployers expect.
* Every resource gets ``*_IN_PROGRESS`` / ``*_COMPLETE`` / ``*_FAILED`` stack events.
* Resources created by a change set carry the ``aws:cloudformation:*`` tags.
* Updates run as on AWS (stack_updates): a replacement is created before the old resource
  goes (cleanup phase), and a failed update rolls back to the previous resources.
* ``DescribeStacks`` gives a list parameter's value comma-joined, as passed (moto showed
  the Python list), and masks ``NoEcho`` parameters by key (moto compared the value).
* Under ``--timing aws`` a successful operation is held ``*_IN_PROGRESS`` for its
  critical path, its events spread over it (:mod:`.stack_timing`).
* An UpdateStack that changes only the stack's tags is an update, as on AWS (moto said
  "No updates are to be performed"): `up --adopt` re-tags stacks this way.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from meshlink.localcloud.patches import stack_timing
from meshlink.localcloud.patches.registry import (
    backend,
    replace,
    resolve,
    step,
    wrap,
)

_local = threading.local()


@contextlib.contextmanager
def _operating_on(stack: Any) -> Iterator[None]:
    previous = getattr(_local, "stack", None)
    _local.stack = stack
    try:
        yield
    finally:
        _local.stack = previous


def _stack() -> Any | None:
    return getattr(_local, "stack", None)


def reason_of(error: BaseException) -> str:
    code = getattr(error, "code", None) or getattr(error, "error_type", None)
    message = getattr(error, "message", None) or str(error) or repr(error)
    if code:
        return f"{message} (Service: {_service_of(error)}, Status Code: 400, Error Code: {code})"
    return message


def _service_of(error: BaseException) -> str:
    parts = type(error).__module__.split(".")
    return parts[1].capitalize() if len(parts) > 1 and parts[0] == "moto" else "CloudFormation"


def _resource_event(
    logical_id: str,
    resource_type: str,
    status: str,
    physical_id: str = "",
    reason: str | None = None,
) -> None:
    from moto.cloudformation.models import Event

    stack = _stack()
    if stack is None:
        return
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _physical_id(resource: Any) -> str:
    return str(getattr(resource, "physical_resource_id", "") or "")


def _tag_ec2(resources_map: Any, logical_id: str, resource: Any) -> None:
    resource_any: Any = resource
    from moto.ec2.models.core import TaggedEC2Resource

    if not isinstance(resource, TaggedEC2Resource):
        return
    tags = dict(resources_map.tags)
    tags.update(
        {
            "aws:cloudformation:stack-name": resources_map["AWS::StackName"],
            "aws:cloudformation:stack-id": resources_map["AWS::StackId"],
            "aws:cloudformation:logical-id": logical_id,
        }
    )
    ec2 = backend("ec2", resources_map._account_id, resources_map._region_name)
    with contextlib.suppress(Exception):
        ec2.create_tags([resource_any.physical_resource_id], tags)


_PARSING = "moto.cloudformation.parsing"
_MODELS = "moto.cloudformation.models"


@wrap(_PARSING, "parse_and_create_resource")
def _parse_and_create_resource(
    original: Any,
    logical_id: str,
    resource_json: Any,
    resources_map: Any,
    account_id: str,
    region_name: str,
) -> Any:
    resource_type = resource_json.get("Type", "")
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    _resource_event(logical_id, resource_type, "CREATE_IN_PROGRESS")
    try:
        resource = original(logical_id, resource_json, resources_map, account_id, region_name)
    except Exception as error:
        _resource_event(logical_id, resource_type, "CREATE_FAILED", reason=reason_of(error))
        raise
    if resource is not None:
        _tag_ec2(resources_map, logical_id, resource)
    _resource_event(logical_id, resource_type, "CREATE_COMPLETE", _physical_id(resource))
    return resource


@wrap(_PARSING, "parse_and_update_resource")
def _parse_and_update_resource(
    original: Any,
    logical_id: str,
    resource_json: Any,
    resources_map: Any,
    account_id: str,
    region_name: str,
) -> Any:
    resource_type = resource_json.get("Type", "")
    current = resources_map._parsed_resources.get(logical_id)
    _resource_event(logical_id, resource_type, "UPDATE_IN_PROGRESS", _physical_id(current))
    try:
        resource = original(logical_id, resource_json, resources_map, account_id, region_name)
    except Exception as error:
        _resource_event(logical_id, resource_type, "UPDATE_FAILED", reason=reason_of(error))
        raise
    _resource_event(logical_id, resource_type, "UPDATE_COMPLETE", _physical_id(resource))
    return resource


@replace(f"{_PARSING}:ResourceMap", "update")
def _update_resources(
    self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None
) -> None:
    """The update as AWS runs it (stack_updates): replacements created first, old and
    removed resources deleted in the cleanup phase, everything undone on failure."""
    from moto.cloudformation import parsing

    from meshlink.localcloud.patches.changesets import can_update
    from meshlink.localcloud.patches.stack_updates import plan_update, run_update

    def update_in_place(name: str, body: dict[str, Any]) -> Any:
        return parsing.parse_and_update_resource(
            name, body, self, self._account_id, self._region_name
        )

    stack = _stack()
    # A CREATE change set runs as an update of an empty stack; its failure is a create's.
    updating = stack is not None and str(stack.status).startswith("UPDATE")
    plan = plan_update(self, template, parameters, can_update)
    cleanup = run_update(
        self,
        template,
        parameters,
        plan,
        update_in_place,
        _rollback_starts if updating else None,
    )
    if updating and stack is not None:
        stack.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
        stack._add_stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    cleanup()


def _rollback_starts(error: BaseException) -> None:
    from meshlink.localcloud.patches.stack_updates import CustomNameReplacement

    stack = _stack()
    if stack is None:
        return
    if isinstance(error, CustomNameReplacement):  # refused before any resource call
        _resource_event(
            error.logical_id, error.resource_type, "UPDATE_FAILED", reason=error.message
        )
    stack.status_reason = f"The following resource(s) failed to update: {reason_of(error)}"
    stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    stack._add_stack_event(
        "UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=stack.status_reason
    )


@wrap(f"{_PARSING}:ResourceMap", "_delete_resource")
def _delete_resource(original: Any, self: Any, parsed_resource: Any, resource_json: Any) -> None:
    logical_id = getattr(parsed_resource, "logical_resource_id", "")
    resource_type = resource_json.get("Type", "")
    physical = _physical_id(parsed_resource)
    _resource_event(logical_id, resource_type, "DELETE_IN_PROGRESS", physical)
    try:
        original(self, parsed_resource, resource_json)
    except Exception as error:
        _resource_event(logical_id, resource_type, "DELETE_FAILED", physical, reason_of(error))
        raise
    _resource_event(logical_id, resource_type, "DELETE_COMPLETE", physical)


def _finish_outputs(backend: Any, stack: Any, template_dict: dict[str, Any]) -> None:
    stack.template_dict = template_dict
    stack.description = template_dict.get("Description")
    stack.output_map = stack._create_output_map()
    for export in stack.exports:
        backend.exports[export.name] = export


def _rollback_create(stack: Any, error: BaseException) -> None:
    from moto.cloudformation.parsing import OutputMap

    stack.status_reason = f"The following resource(s) failed to create: {reason_of(error)}"
    stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=stack.status_reason)
    with contextlib.suppress(Exception):
        stack.resource_map.delete()
    # A create that rolled back leaves no outputs (DescribeStacks lists none); moto would
    # evaluate a CreateStack template's against the resources just deleted, and fail.
    stack.output_map = OutputMap(stack.resource_map, {}, stack.stack_id)
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")


def _rollback_update(stack: Any, error: BaseException) -> None:
    # The resources are back already (stack_updates.run_update rolled them back).
    if stack.status != "UPDATE_ROLLBACK_IN_PROGRESS":
        with _operating_on(stack):
            _rollback_starts(error)
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")


@replace(f"{_MODELS}:Stack", "parameter_list", as_=property)
def _parameter_list(stack: Any) -> list[dict[str, Any]]:
    """Stack parameters as DescribeStacks shows them."""
    resource_map = stack.resource_map
    hidden = set(resource_map.no_echo_parameter_keys)
    return [
        {
            "ParameterKey": key,
            "ParameterValue": "****"
            if key in hidden
            else ",".join(str(v) for v in value)
            if isinstance(value, list)
            else value,
        }
        for key, value in resource_map.resolved_parameters.items()
    ]


@step
def _stacks_have_a_status_reason() -> None:
    # Stacks start without one; moto has no such attribute.
    resolve(f"{_MODELS}:Stack").status_reason = None


def _find_change_set(backend: Any, change_set_name: str, stack_name: str | None) -> Any:
    from moto.cloudformation.exceptions import ValidationError

    change_set = backend.change_sets.get(change_set_name)
    if change_set is None:
        matches = [c for c in backend.change_sets.values() if c.change_set_name == change_set_name]
        if stack_name:
            matches = [c for c in matches if stack_name in (c.stack_name, c.stack_id)]
        change_set = matches[-1] if matches else None
    if change_set is None:
        raise ValidationError(
            change_set_name, message=f"ChangeSet [{change_set_name}] does not exist"
        )
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(
            change_set_name,
            message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
            f"execution status of [{change_set.execution_status}]",
        )
    return change_set


@replace(f"{_MODELS}:CloudFormationBackend", "execute_change_set")
def _execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = _find_change_set(self, change_set_name, stack_name)
    stack = self.stacks[change_set.stack_id]
    kind = change_set.change_set_type
    first_event, before = len(stack.events), _resources(stack)
    stack.status = f"{kind}_IN_PROGRESS"
    stack._add_stack_event(f"{kind}_IN_PROGRESS", resource_status_reason="User Initiated")
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    with _operating_on(stack):
        try:
            change_set.apply()
        except Exception as error:
            change_set.execution_status = "EXECUTE_FAILED"
            (_rollback_create if kind == "CREATE" else _rollback_update)(stack, error)
            return
    stack.template = change_set.template
    stack.parameters = change_set.parameters
    if change_set.tags is not None:
        stack.tags = change_set.tags
    _finish_outputs(self, stack, change_set.template_dict)
    change_set.execution_status = "EXECUTE_COMPLETE"
    stack.status = f"{kind}_COMPLETE"
    stack._add_stack_event(f"{kind}_COMPLETE")
    stack_timing.hold(stack, first_event, f"{kind}_IN_PROGRESS", before)


def _resources(stack: Any) -> dict[str, Any]:
    """The stack's template resources now (what a delete or an update starts from)."""
    return dict((getattr(stack, "template_dict", None) or {}).get("Resources") or {})


@wrap(f"{_MODELS}:Stack", "create_resources")
def _create_resources(original: Any, self: Any) -> None:
    first_event = len(self.events)
    with _operating_on(self):
        try:
            original(self)
        except Exception as error:
            _rollback_create(self, error)
            return
    stack_timing.hold(self, first_event, "CREATE_IN_PROGRESS", {})


@wrap(f"{_MODELS}:Stack", "update")
def _update(original: Any, self: Any, *args: Any, **kwargs: Any) -> None:
    first_event, before = len(self.events), _resources(self)
    with _operating_on(self):
        try:
            original(self, *args, **kwargs)
        except Exception as error:
            _rollback_update(self, error)
            return
    stack_timing.hold(self, first_event, "UPDATE_IN_PROGRESS", before)


@replace(f"{_MODELS}:Stack", "delete")
def _delete(self: Any) -> None:
    first_event, before = len(self.events), _resources(self)
    self.status = "DELETE_IN_PROGRESS"
    self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    with _operating_on(self):
        self.resource_map.delete()
    self._add_stack_event("DELETE_COMPLETE")
    self.status = "DELETE_COMPLETE"
    stack_timing.hold(self, first_event, "DELETE_IN_PROGRESS", before)


@wrap(f"{_MODELS}:CloudFormationBackend", "delete_stack")
def _delete_stack(original: Any, self: Any, name_or_stack_id: str) -> None:
    stack = next(
        (s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)), None
    )
    try:
        original(self, name_or_stack_id)
    except Exception as error:
        if stack is None:
            raise
        # Keep the stack, as AWS does: DELETE_FAILED, retryable.
        self.stacks[stack.stack_id] = stack
        self.deleted_stacks.pop(stack.stack_id, None)
        stack.status = "DELETE_FAILED"
        stack.status_reason = f"The following resource(s) failed to delete: {reason_of(error)}"
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=stack.status_reason)


@wrap("moto.cloudformation.responses:CloudFormationResponse", "_validate_different_update")
def _tags_are_an_update(
    original: Any, self: Any, incoming_params: Any, stack_body: Any, old_stack: Any
) -> None:
    tags = {t["Key"]: t["Value"] for t in self._get_param("Tags", [])}
    if tags and tags != dict(old_stack.tags or {}):
        return
    original(self, incoming_params, stack_body, old_stack)
