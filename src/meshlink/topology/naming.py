"""Names meshlink gives to AWS resources, and the limits they must respect."""

from __future__ import annotations

import hashlib
import re

STACK_NAME_LIMIT = 128
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET_NAME_LIMIT = 63


def stack_name(mesh: str, kind: str, subject: str) -> str:
    """CloudFormation stack name of a graph node, e.g. meshlink-shop-edge-user-service."""
    return f"meshlink-{mesh}-{kind}-{subject}"


def template_bucket_name(mesh: str, account_id: str, region: str) -> str:
    """The S3 bucket meshlink stages large templates in: one per mesh, account and region.

    Deterministic, so every run (and `down`) finds it; a mesh name too long for S3's 63
    characters is shortened and given a digest of the whole, so two meshes never share one.
    """
    name = f"meshlink-{mesh}-{account_id}-{region}"
    if len(name) <= BUCKET_NAME_LIMIT:
        return name
    digest = hashlib.sha256(mesh.encode()).hexdigest()[:8]
    room = BUCKET_NAME_LIMIT - len(f"meshlink--{digest}-{account_id}-{region}")
    return f"meshlink-{mesh[:room].rstrip('-')}-{digest}-{account_id}-{region}"


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
