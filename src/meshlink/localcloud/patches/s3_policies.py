"""Bucket policies whose conditions count, as S3 evaluates them.

moto 5.2.5 evaluates a bucket policy's statements but not their conditions: an
unsupported operator (``Bool``) counts as met, and an unmet condition denies even in an
Allow statement. So the standard TLS-only statement (Deny everything when
``aws:SecureTransport`` is ``false``,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html)
denied every request. Here a statement applies only when its conditions hold
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html),
evaluated against what the local cloud knows of a request.
"""

from __future__ import annotations

import json
from typing import Any

from meshlink.localcloud.patches.registry import wrap

# What a request to the local endpoint is, for condition keys. meshlink's clients reach
# AWS only over TLS; the local endpoint stands in for those https endpoints.
REQUEST_CONTEXT = {"aws:securetransport": "true"}


def _holds(operator: str, key: str, expected: Any) -> bool:
    """One condition (operator, key, expected values) against REQUEST_CONTEXT."""
    actual = REQUEST_CONTEXT.get(key.lower())
    wanted = [str(v).lower() for v in (expected if isinstance(expected, list) else [expected])]
    if operator == "Null":  # "true": the key is absent
        return (actual is None) == ("true" in wanted)
    if actual is None:
        return False  # AWS: a condition on a key the request lacks does not match
    if operator in ("Bool", "StringEquals", "StringEqualsIgnoreCase"):
        return actual.lower() in wanted
    if operator in ("StringNotEquals", "StringNotEqualsIgnoreCase"):
        return actual.lower() not in wanted
    return False  # an operator the local cloud cannot evaluate: the statement is skipped


def conditions_hold(statement: dict[str, Any]) -> bool:
    """Whether every condition of `statement` holds (no conditions: it always applies)."""
    return all(
        _holds(operator, key, expected)
        for operator, pairs in (statement.get("Condition") or {}).items()
        for key, expected in pairs.items()
    )


@wrap("moto.s3.models:FakeBucket", "get_permission")
def _get_permission(original: Any, self: Any, action: str, resource: str) -> Any:
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    if self.policy is None:
        return original(self, action, resource)
    statements = json.loads(self.policy).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    results = [
        IAMPolicyStatement(
            {k: v for k, v in statement.items() if k != "Condition"}
        ).is_action_permitted(action, resource)
        for statement in statements
        if conditions_hold(statement)
    ]
    if PermissionResult.DENIED in results:  # an explicit deny wins
        return PermissionResult.DENIED
    if PermissionResult.PERMITTED in results:
        return PermissionResult.PERMITTED
    return PermissionResult.NEUTRAL
