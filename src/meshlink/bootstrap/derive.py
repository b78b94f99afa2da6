"""Where actions.json comes from (development only: needs cfn-lint, which ships the
CloudFormation resource provider schemas with each handler's permissions).

* ``resource_types(templates)``: every resource type of synthesized templates;
* ``on_behalf_actions(types)``: what CloudFormation needs to create, read, update and
  delete them with the caller's credentials (the schemas' ``handlers.*.permissions``);
* ``call_action(call)``: the IAM action a boto3 call (``"s3.head_bucket"``) is
  authorized as, the way the local cloud records it (localcloud/api_log.py);
* ``write(**sections)``: rewrite sections of the packaged actions.json.

The tests that hold actions.json equal to the truth rewrite it when
``MESHLINK_REGENERATE_ACTIONS=1`` is set (tests/unit/stacks/test_least_privilege.py for
``resource_types`` and ``on_behalf``, tests/functional/test_bootstrap.py for ``direct``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from meshlink.bootstrap.policy import DATA_FILE, load_actions

HANDLERS = ("create", "read", "update", "delete")
SCHEMA_REGION = "us-east-1"
DATA_PATH = Path(__file__).with_name(DATA_FILE)


def resource_types(templates: Iterable[dict[str, Any]]) -> set[str]:
    """Every resource type in `templates`."""
    return {
        resource["Type"]
        for template in templates
        for resource in template.get("Resources", {}).values()
    }


@cache
def _schemas() -> tuple[Path, dict[str, str]]:
    from importlib.util import find_spec

    spec = find_spec("cfnlint")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("cfn-lint is not installed (pip install -e '.[dev]')")
    root = Path(spec.origin).parent / "data" / "schemas"
    index: dict[str, str] = json.loads((root / "providers" / f"{SCHEMA_REGION}.json").read_text())
    return root / "resources", index


def handler_permissions(resource_type: str) -> set[str]:
    """The permissions CloudFormation's handlers of `resource_type` need."""
    folder, index = _schemas()
    if resource_type not in index:
        raise KeyError(f"no resource provider schema for {resource_type}")
    schema = json.loads((folder / f"{index[resource_type]}.json").read_text())
    handlers = schema.get("handlers", {})
    return {
        permission
        for name in HANDLERS
        for permission in handlers.get(name, {}).get("permissions", [])
    }


@cache
def _iam_actions() -> frozenset[str]:
    """Every IAM action AWS defines, lower case (cfn-lint's copy of the IAM reference)."""
    folder, _ = _schemas()
    policies = json.loads((folder.parent.parent / "AdditionalSpecs" / "Policies.json").read_text())
    return frozenset(
        f"{prefix}:{action}".lower()
        for prefix, service in policies.items()
        for action in service.get("Actions", {})
    )


def defined(action: str) -> bool:
    """Whether IAM defines `action` (a policy can grant it)."""
    return action.lower() in _iam_actions()


def on_behalf_actions(types: Iterable[str]) -> set[str]:
    """Every permission CloudFormation needs for `types` that IAM defines.

    A few schemas list names IAM does not know (e.g. ec2:CreateVpcEndpointServicePermissions,
    s3:REST.PUT.OBJECT); a policy cannot grant those, and cfn-lint rejects them (W3037).
    """
    known = _iam_actions()
    return {
        action for kind in types for action in handler_permissions(kind) if action.lower() in known
    }


@cache
def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def call_action(call: str) -> str:
    """The IAM action of boto3 call `call` (``service.method``).

    Most are ``<IAM prefix>:<Operation>``; S3's follow from method, key and sub-resource
    (HeadBucket is s3:ListBucket), with the same table the local cloud's recording uses.
    """
    from botocore import xform_name

    from meshlink.localcloud.api_log import iam_action, s3_action

    service, _, method = call.partition(".")
    model = _service_model(service)
    operations = {xform_name(name): name for name in model.operation_names}
    if method not in operations:
        raise KeyError(f"{service} has no operation {method}")
    operation = operations[method]
    if service != "s3":
        return iam_action(model.signing_name, operation)
    http = model.operation_model(operation).http
    path, _, query = str(http["requestUri"]).partition("?")
    has_key = "{Key+}" in path
    environ = {
        "REQUEST_METHOD": http["method"],
        "PATH_INFO": "/bucket/key" if has_key else "/bucket",
        "QUERY_STRING": query,
    }
    return f"s3:{s3_action(environ)}"


def write(**sections: list[str]) -> None:
    """Replace `sections` of actions.json (sorted), keeping the others."""
    data = json.loads(DATA_PATH.read_text())
    for key, values in sections.items():
        data[key] = sorted(set(values))
    DATA_PATH.write_text(json.dumps(data, indent=2) + "\n")
    load_actions.cache_clear()
