"""actions.json's own actions against meshlink's source: each conditional action is bound
to the code that calls it, and every AWS call in the source is in the policy.

The recordings (tests/functional/test_bootstrap.py, test_large_templates.py) prove what
the paths they run call; this proves the paths no recording runs (target: aws only,
drift repair, --probe-image, ...) are not forgotten.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections import defaultdict
from pathlib import Path

import pytest

from meshlink.bootstrap import derive
from meshlink.bootstrap.policy import NEEDS_NO_PERMISSION, Conditional, load_actions

SOURCE = Path(importlib.import_module("meshlink").__file__ or "").parent
# Not the deploy role's calls: the local cloud is the emulator itself, and bootstrap
# creates the role with the operator's own (administrator) credentials.
NOT_THE_ROLE = ("localcloud/", "bootstrap/run.py")
# Made with the credentials meshlink starts from, to become the role: its trust allows it.
BASE_CREDENTIALS = {"assume_role"}
# `<...>.client(<account>, "ec2")`: which services meshlink asks clients of.
CLIENT = re.compile(r'client\([^"\n]*?"([a-z][a-z0-9-]*)"\)')
# A boto3 method called (`.describe_vpcs(`) or named (`api("create_change_set", ...)`).
CALL = re.compile(r'\.([a-z][a-z0-9_]*)\(|"([a-z][a-z0-9_]*)"')


def _caller_source(entry: Conditional) -> str:
    module_name, _, qualname = entry.caller.partition("::")
    target: object = importlib.import_module(module_name)
    for part in filter(None, qualname.split(".")):
        target = getattr(target, part)
    return inspect.getsource(target)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "entry", load_actions().conditional, ids=lambda e: f"{e.action}@{e.caller.split('::')[-1]}"
)
def test_each_conditional_action_is_what_its_caller_s_call_needs(entry: Conditional) -> None:
    method = entry.call.split(".", 1)[1]
    assert re.search(rf"\b{method}\b", _caller_source(entry)), f"{entry.caller} makes no {method}"
    assert derive.defined(entry.action), f"IAM defines no {entry.action}"
    assert entry.when.strip()
    if entry.implied is None:
        assert derive.call_action(entry.call) == entry.action
    else:  # a permission the call needs besides its own action, as AWS documents
        assert derive.call_action(entry.call) != entry.action
        assert entry.implied.startswith("https://docs.aws.amazon.com/")


def test_direct_and_conditional_do_not_overlap() -> None:
    actions = load_actions()
    assert sorted(set(actions.direct) & actions.conditional_actions()) == []
    assert all(derive.defined(a) for a in actions.direct if a not in NEEDS_NO_PERMISSION)


def _source_calls() -> dict[str, set[str]]:
    """boto3 method -> the files (under meshlink/) that call or name it."""
    files = {
        path.relative_to(SOURCE).as_posix(): path.read_text(encoding="utf-8")
        for path in SOURCE.rglob("*.py")
    }
    files = {name: text for name, text in files.items() if not name.startswith(NOT_THE_ROLE)}
    services = {service for text in files.values() for service in CLIENT.findall(text)}
    methods: dict[str, set[str]] = defaultdict(set)
    for service in services:
        for operation in derive._service_model(service).operation_names:
            from botocore import xform_name

            methods[xform_name(operation)].add(service)
    calls: dict[str, set[str]] = defaultdict(set)
    for name, text in files.items():
        for match in CALL.finditer(text):
            method = match.group(1) or match.group(2)
            for service in methods.get(method, ()):
                calls[f"{service}.{method}"].add(name)
    return calls


def test_every_aws_call_in_meshlink_s_source_is_one_of_its_own_actions() -> None:
    allowed = load_actions().own_actions() | NEEDS_NO_PERMISSION
    calls = _source_calls()
    by_method: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for call, files in calls.items():
        by_method[call.split(".", 1)[1]][derive.call_action(call)] = files
    # A method several services have (describe_tags) is fine if one of them is allowed.
    missing = {
        method: sorted(f"{action} ({', '.join(sorted(files))})" for action, files in found.items())
        for method, found in by_method.items()
        if method not in BASE_CREDENTIALS and not set(found) & allowed
    }
    assert not missing, (
        "not in the deploy role's policy; add each to actions.json: `direct` if every "
        "mesh's life calls it (the recording test regenerates it), else `conditional` with "
        "its call, caller and when:\n"
        + "\n".join(f"  {method}: {', '.join(found)}" for method, found in sorted(missing.items()))
    )
    # Not vacuous: the scan sees the calls the recordings cannot.
    assert {"ecs.list_tasks", "logs.get_log_events", "s3.put_object"} <= set(calls)


def test_boto3_calls_map_to_the_iam_actions_aws_authorizes() -> None:
    assert derive.call_action("ecs.list_tasks") == "ecs:ListTasks"
    assert derive.call_action("elbv2.describe_tags") == "elasticloadbalancing:DescribeTags"
    assert derive.call_action("cloudwatch.describe_alarms") == "cloudwatch:DescribeAlarms"
    assert derive.call_action("service-quotas.get_service_quota") == (
        "servicequotas:GetServiceQuota"
    )
    # S3's actions are not its operations' names.
    assert derive.call_action("s3.head_bucket") == "s3:ListBucket"
    assert derive.call_action("s3.list_objects_v2") == "s3:ListBucket"
    assert derive.call_action("s3.put_bucket_encryption") == "s3:PutEncryptionConfiguration"
    assert derive.call_action("s3.put_public_access_block") == "s3:PutBucketPublicAccessBlock"
    with pytest.raises(KeyError, match="ecs has no operation list_everything"):
        derive.call_action("ecs.list_everything")
