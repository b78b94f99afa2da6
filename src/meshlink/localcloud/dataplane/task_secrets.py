"""A task's secrets: read from Secrets Manager when it starts, as the ECS agent does.

A container definition's ``secrets`` name environment variables and the secret each
comes from (``valueFrom``: a secret's ARN, or its name in the task's account and
region). ECS reads them with the execution role before the container starts and a
secret it cannot read stops the task with a ResourceInitializationError
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html).
The local cloud reads them from moto's Secrets Manager (it enforces no IAM). The values
go into the task's process environment only: never into a log line.

:func:`resolve` runs under the moto lock.
"""

from __future__ import annotations

from typing import Any


def _reason(value_from: str, region: str, account: str, cause: str) -> str:
    arn = (
        value_from
        if value_from.startswith("arn:")
        else f"arn:aws:secretsmanager:{region}:{account}:secret:{value_from}"
    )
    return (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution "
        "resource retrieval failed: unable to retrieve secret from asm: service call has "
        f"been retried 1 time(s): failed to fetch secret {arn} from secrets manager: {cause}"
    )


def _where(value_from: str, account: str, region: str) -> tuple[str, str]:
    """The account and region a secret lives in: its ARN's, or the task's."""
    if value_from.startswith("arn:"):
        parts = value_from.split(":")
        return parts[4], parts[3]
    return account, region


def resolve(container: dict[str, Any], account: str, region: str) -> dict[str, str] | str:
    """The container's secrets as environment variables, or the reason the task stops."""
    from moto.secretsmanager.exceptions import SecretNotFoundException
    from moto.secretsmanager.models import secretsmanager_backends

    found: dict[str, str] = {}
    for secret in container.get("secrets") or []:
        name, value_from = str(secret.get("name")), str(secret.get("valueFrom"))
        owner, where = _where(value_from, account, region)
        backend = secretsmanager_backends[owner][where]
        try:
            # No version: the AWSCURRENT one (moto's own API handler passes None too).
            value = backend.get_secret_value(value_from, None, None)  # type: ignore[arg-type]
        except SecretNotFoundException:
            return _reason(
                value_from,
                region,
                account,
                "ResourceNotFoundException: Secrets Manager can't find the specified secret.",
            )
        text = value.get("SecretString")
        if text is None:
            return _reason(
                value_from,
                region,
                account,
                "InvalidParameterException: the secret holds binary data, not a string",
            )
        found[name] = str(text)
    return found
