"""Where actions.json comes from (development only: needs cfn-lint, which ships the
CloudFormation resource provider schemas with each handler's permissions).

* ``resource_types(templates)``: every resource type of synthesized templates;
* ``on_behalf_actions(types)``: what CloudFormation needs to create, read, update and
  delete them with the caller's credentials (the schemas' ``handlers.*.permissions``);
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


def on_behalf_actions(types: Iterable[str]) -> set[str]:
    """Every permission CloudFormation needs for `types` that IAM defines.

    A few schemas list names IAM does not know (e.g. ec2:CreateVpcEndpointServicePermissions,
    s3:REST.PUT.OBJECT); a policy cannot grant those, and cfn-lint rejects them (W3037).
    """
    known = _iam_actions()
    return {
        action for kind in types for action in handler_permissions(kind) if action.lower() in known
    }


def write(**sections: list[str]) -> None:
    """Replace `sections` of actions.json (sorted), keeping the others."""
    data = json.loads(DATA_PATH.read_text())
    for key, values in sections.items():
        data[key] = sorted(set(values))
    DATA_PATH.write_text(json.dumps(data, indent=2) + "\n")
    load_actions.cache_clear()
