"""Every AWS API call the local cloud answered, by account, caller and IAM action.

``GET /_meshlink/api-calls`` (optionally ``?account=<id>`` and ``?session=<text>``, a
substring of the caller's ARN, e.g. the ``meshlink-<mesh>-<operator>`` session name)::

    {"accounts": {"111111111111": [
        {"action": "cloudformation:CreateChangeSet", "service": "cloudformation",
         "operation": "CreateChangeSet", "caller": "arn:aws:sts::1111...:assumed-role/...",
         "calls": 3, "errors": 0}, ...]}}

``DELETE /_meshlink/api-calls`` forgets everything recorded so far. This is how
``meshlink bootstrap``'s policy is derived and held equal to what meshlink calls
(tests/functional/test_bootstrap.py). Only calls that reach the HTTP API are seen: what
CloudFormation does for a stack runs inside the local cloud and is not an API call here.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

ROUTE = "/api-calls"

# S3 speaks REST: the IAM action follows from method, key and sub-resource
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
# (method, has key, sub-resource or "") -> IAM action name.
S3_ACTIONS: dict[tuple[str, bool, str], str] = {
    ("GET", False, ""): "ListBucket",
    ("HEAD", False, ""): "ListBucket",
    ("PUT", False, ""): "CreateBucket",
    ("DELETE", False, ""): "DeleteBucket",
    ("GET", False, "location"): "GetBucketLocation",
    ("GET", False, "versions"): "ListBucketVersions",
    ("GET", False, "versioning"): "GetBucketVersioning",
    ("PUT", False, "versioning"): "PutBucketVersioning",
    ("GET", False, "encryption"): "GetEncryptionConfiguration",
    ("PUT", False, "encryption"): "PutEncryptionConfiguration",
    ("GET", False, "publicAccessBlock"): "GetBucketPublicAccessBlock",
    ("PUT", False, "publicAccessBlock"): "PutBucketPublicAccessBlock",
    ("GET", False, "policy"): "GetBucketPolicy",
    ("PUT", False, "policy"): "PutBucketPolicy",
    ("DELETE", False, "policy"): "DeleteBucketPolicy",
    ("GET", False, "tagging"): "GetBucketTagging",
    ("PUT", False, "tagging"): "PutBucketTagging",
    ("PUT", False, "ownershipControls"): "PutBucketOwnershipControls",
    ("PUT", False, "lifecycle"): "PutLifecycleConfiguration",
    ("POST", False, "delete"): "DeleteObject",
    ("GET", True, ""): "GetObject",
    ("HEAD", True, ""): "GetObject",
    ("PUT", True, ""): "PutObject",
    ("DELETE", True, ""): "DeleteObject",
    ("DELETE", True, "versionId"): "DeleteObjectVersion",
    ("GET", True, "tagging"): "GetObjectTagging",
}


@dataclass(frozen=True)
class Call:
    """One kind of call: who, in which account, which IAM action."""

    account: str
    caller: str
    service: str
    operation: str
    action: str


_lock = threading.Lock()
_calls: Counter[Call] = Counter()
_errors: Counter[Call] = Counter()


def s3_action(environ: dict[str, Any]) -> str:
    """The IAM action of a path-style S3 request ("" for ListAllMyBuckets' GET /)."""
    path = environ.get("PATH_INFO", "/").lstrip("/")
    method = environ.get("REQUEST_METHOD", "GET")
    if not path:
        return "ListAllMyBuckets"
    has_key = "/" in path.rstrip("/")
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    for sub in query:
        found = S3_ACTIONS.get((method, has_key, sub))
        if found:
            return found
    return S3_ACTIONS.get((method, has_key, ""), f"{method} {'object' if has_key else 'bucket'}")


@cache
def _rest_routes(service: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(method, path pattern, operation) of a REST service's operations, most literal first."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        model = botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return ()
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = str(http.get("requestUri", "/")).split("?", 1)[0]
        pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(path))
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        routes.append((literal, str(http.get("method", "POST")), re.compile(pattern + "/?"), name))
    routes.sort(key=lambda route: -route[0])
    return tuple((method, pattern, name) for _, method, pattern, name in routes)


def rest_operation(service: str, environ: dict[str, Any]) -> str | None:
    """The operation of a REST request (method and path against botocore's model of
    `service`, the signing name); None when no operation matches."""
    method = environ.get("REQUEST_METHOD", "")
    path = environ.get("PATH_INFO", "/")
    for route_method, pattern, name in _rest_routes(service):
        if route_method == method and pattern.fullmatch(path):
            return name
    return None


def credential_scope(environ: dict[str, Any]) -> list[str]:
    """The SigV4 credential of the request's Authorization header, split: access key id,
    date, region, service, "aws4_request" ([] when it has none)."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    if "Credential=" not in auth:
        return []
    return auth.split("Credential=", 1)[-1].split(",", 1)[0].split("/")


def caller_arn(environ: dict[str, Any], account: str) -> str:
    """The caller's ARN: the assumed-role session (with its session name), else the account.

    Call while holding the local cloud's moto lock (it reads moto's STS backend)."""
    from meshlink.localcloud.patches.registry import backend

    scope = credential_scope(environ)
    key = scope[0] if scope else ""
    try:
        assumed = backend("sts", account, "aws").get_assumed_role_from_access_key(key)
    except Exception:
        assumed = None
    if assumed is not None:
        return str(assumed.arn)
    return f"arn:aws:iam::{account}:root"


def record(environ: dict[str, Any], account: str | None, status: str) -> None:
    """Count one answered AWS request (under the moto lock, after moto answered it)."""
    from meshlink.localcloud.server import describe_call

    if not account:
        return
    service, operation = describe_call(environ)
    if service == "s3":
        operation = s3_action(environ)
    elif operation.startswith(f"{environ.get('REQUEST_METHOD', '')} /"):
        # A REST service (RAM: POST /createresourceshare) names no action in the request.
        operation = rest_operation(service, environ) or operation
    call = Call(
        account, caller_arn(environ, account), service, operation, iam_action(service, operation)
    )
    with _lock:
        _calls[call] += 1
        if status[:1] in ("4", "5"):
            _errors[call] += 1


# Signing names that are not the service's IAM prefix
# (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
IAM_PREFIXES = {"monitoring": "cloudwatch"}


def iam_action(service: str, operation: str) -> str:
    """`prefix:Operation`: the signing name is the IAM prefix (ec2, ecs, logs, s3, ...)
    except where IAM_PREFIXES says otherwise (CloudWatch signs as "monitoring")."""
    return f"{IAM_PREFIXES.get(service, service)}:{operation}"


def snapshot(account: str | None = None, session: str | None = None) -> dict[str, Any]:
    """The recorded calls, by account, sorted by action."""
    with _lock:
        calls = [(call, count, _errors[call]) for call, count in _calls.items()]
    accounts: dict[str, list[dict[str, Any]]] = {}
    for call, count, errors in sorted(
        calls, key=lambda c: (c[0].account, c[0].action, c[0].caller)
    ):
        if account and call.account != account:
            continue
        if session and session not in call.caller:
            continue
        accounts.setdefault(call.account, []).append(
            {
                "action": call.action,
                "service": call.service,
                "operation": call.operation,
                "caller": call.caller,
                "calls": count,
                "errors": errors,
            }
        )
    return {"accounts": accounts}


def reset() -> None:
    with _lock:
        _calls.clear()
        _errors.clear()


def register() -> None:
    """Serve GET/DELETE /_meshlink/api-calls."""
    from meshlink.localcloud import admin

    def handle(request: admin.AdminRequest) -> Any:
        if request.method == "DELETE":
            reset()
            return {"reset": True}
        return snapshot(request.query.get("account"), request.query.get("session"))

    admin.register_route(ROUTE, handle)


def fetch(endpoint_url: str, *, account: str | None = None, session: str | None = None) -> Any:
    """The running local cloud's record (the client side of the route)."""
    query = urllib.parse.urlencode(
        {k: v for k, v in {"account": account, "session": session}.items() if v}
    )
    url = f"{endpoint_url.rstrip('/')}/_meshlink{ROUTE}" + (f"?{query}" if query else "")
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local endpoint
        return json.loads(response.read())


def actions_of(record_: Any, session: str) -> set[str]:
    """Every IAM action of `record_` (a fetch() answer) whose caller's ARN holds `session`."""
    return {
        entry["action"]
        for entries in record_["accounts"].values()
        for entry in entries
        if session in entry["caller"]
    }
