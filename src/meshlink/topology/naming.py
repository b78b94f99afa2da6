"""Names meshlink gives to AWS resources, and the limits they must respect."""

from __future__ import annotations

import re

LOAD_BALANCER_NAME_LIMIT = 32  # NLB and target-group names
STACK_NAME_LIMIT = 128


def stack_name(mesh: str, kind: str, subject: str) -> str:
    """CloudFormation stack name of a graph node, e.g. meshlink-shop-edge-user-service."""
    return f"meshlink-{mesh}-{kind}-{subject}"


def load_balancer_name(mesh: str, service: str) -> str:
    """Name of a service's NLB and of its target group (each unique in its account)."""
    return f"{mesh}-{service}"


def env_var_for_peer(peer: str) -> str:
    """Environment variable that carries a consumed peer's URL: PEER_<NAME>_URL."""
    return "PEER_" + peer.upper().replace("-", "_") + "_URL"


def default_role_arn(account_id: str, role: str | None) -> str:
    """ARN of the role meshlink assumes in an account (a name or a full ARN)."""
    if role and role.startswith("arn:"):
        return role
    return f"arn:aws:iam::{account_id}:role/{role or 'MeshlinkDeploy'}"


def logical_id(*parts: str) -> str:
    """CamelCase alphanumeric id from free-form parts (CloudFormation logical ids)."""
    words = re.split(r"[^A-Za-z0-9]+", " ".join(parts))
    return "".join(word[:1].upper() + word[1:] for word in words if word)
