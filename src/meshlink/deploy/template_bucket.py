"""meshlink's S3 bucket for templates over CloudFormation's inline limit, one per account.

CloudFormation takes at most 51,200 bytes of ``TemplateBody``; a larger template (a
consumer of ~30 peers) must come from S3 through ``TemplateURL``
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
The bucket is created on first need, private and encrypted: all public access blocked,
SSE-S3 by default, objects owned by the bucket owner (no ACLs), TLS-only by policy, and
tagged with the mesh. A template object lives only until CloudFormation has read it
(the change set is created); a lifecycle rule expires any a crashed run left behind.
`down` removes the bucket once the mesh is gone, when nothing but meshlink's templates
is in it. Small templates never touch it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from meshlink.errors import DeployError
from meshlink.topology.naming import template_bucket_name

if TYPE_CHECKING:
    from meshlink.deploy.runtime import MeshRuntime

PREFIX = "templates/"
EXPIRE_AFTER_DAYS = 1  # a template is read within seconds; only a crashed run leaves one
MISSING = frozenset({"404", "NoSuchBucket", "NotFound"})


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def tls_only_policy(bucket: str) -> dict[str, Any]:
    """Deny every request not made over TLS (AWS's documented pattern).

    The principal is everyone because it is a Deny: it grants nothing
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html).
    """
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


class TemplateBucket:
    """Stages large templates for CloudFormation in one account (Deployer's `templates`).

    `s3` makes the account's S3 client, on first use: most runs stage nothing (every
    template under the inline limit), and a client takes ~40 ms of CPU to build."""

    def __init__(
        self,
        s3: Callable[[], Any],
        *,
        mesh: str,
        mesh_id: str,
        account_id: str,
        region: str,
        create: bool = True,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self._make_s3 = s3
        self.mesh = mesh
        self.mesh_id = mesh_id
        self.account_id = account_id
        self.region = region
        self.name = template_bucket_name(mesh, account_id, region)
        self.create = create  # False while planning: plan changes nothing of its own
        self._notice: Callable[[str], None] = notice or (lambda message: None)
        self._lock = threading.Lock()
        self._ready = False

    @functools.cached_property
    def s3(self) -> Any:
        return self._make_s3()

    # -- the Deployer's side ------------------------------------------------------

    def put(self, stack_name: str, body: str) -> str:
        """Upload `body`; the https URL CloudFormation reads it from."""
        self.ensure()
        digest = hashlib.sha256(body.encode()).hexdigest()[:20]
        key = f"{PREFIX}{stack_name}/{digest}.json"
        self.s3.put_object(
            Bucket=self.name,
            Key=key,
            Body=body.encode(),
            ContentType="application/json",
            ExpectedBucketOwner=self.account_id,
        )
        return f"https://{self.name}.s3.{self.region}.amazonaws.com/{key}"

    def discard(self, url: str) -> None:
        """Delete an uploaded template once CloudFormation has read it."""
        key = url.split(".amazonaws.com/", 1)[1]
        self.s3.delete_object(Bucket=self.name, Key=key, ExpectedBucketOwner=self.account_id)

    # -- the bucket ----------------------------------------------------------------

    def exists(self) -> bool:
        try:
            self.s3.head_bucket(Bucket=self.name, ExpectedBucketOwner=self.account_id)
        except Exception as error:
            if _code(error) in MISSING:
                return False
            raise DeployError(
                f"cannot use the template bucket {self.name}: {error}",
                hint="the bucket name is meshlink's for this mesh and account; if another "
                "account owns it, rename the mesh",
            ) from error
        return True

    def ensure(self) -> None:
        """Create the bucket with its protections, once per run (idempotent)."""
        with self._lock:
            if self._ready:
                return
            if not self.exists():
                if not self.create:
                    raise DeployError(
                        f"meshlink's template bucket {self.name} does not exist",
                        hint="`meshlink up` creates it; a template over 51,200 bytes is "
                        "deployed through it",
                    )
                self._create()
            self._ready = True

    def _create(self) -> None:
        extra: dict[str, Any] = {}
        if self.region != "us-east-1":  # us-east-1 refuses its own name as a constraint
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.s3.create_bucket(Bucket=self.name, ObjectOwnership="BucketOwnerEnforced", **extra)
        except Exception as error:
            if _code(error) != "BucketAlreadyOwnedByYou":
                raise DeployError(
                    f"cannot create the template bucket {self.name}: {error}",
                    hint="S3 bucket names are global: if another account holds this one, "
                    "rename the mesh",
                ) from error
        self.s3.put_public_access_block(
            Bucket=self.name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            ExpectedBucketOwner=self.account_id,
        )
        self.s3.put_bucket_encryption(
            Bucket=self.name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        # SSE-S3: CloudFormation reads the object with the caller's
                        # rights and needs no KMS grant.
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
            ExpectedBucketOwner=self.account_id,
        )
        self.s3.put_bucket_policy(
            Bucket=self.name,
            Policy=json.dumps(tls_only_policy(self.name)),
            ExpectedBucketOwner=self.account_id,
        )
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=self.name,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "expire-staged-templates",
                        "Filter": {"Prefix": PREFIX},
                        "Status": "Enabled",
                        "Expiration": {"Days": EXPIRE_AFTER_DAYS},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                    }
                ]
            },
            ExpectedBucketOwner=self.account_id,
        )
        self.s3.put_bucket_tagging(
            Bucket=self.name,
            Tagging={
                "TagSet": [
                    {"Key": "meshlink:mesh", "Value": self.mesh},
                    {"Key": "meshlink:mesh-id", "Value": self.mesh_id},
                    {"Key": "meshlink:purpose", "Value": "cloudformation-templates"},
                ]
            },
            ExpectedBucketOwner=self.account_id,
        )
        self._notice(
            f"created the template bucket {self.name} (account {self.account_id}): "
            "templates over 51,200 bytes are deployed through it"
        )

    def remove(self) -> str | None:
        """Delete the bucket when it holds only meshlink's templates; what was done, or None.

        Never fails `down` (the stacks are gone by then): a bucket that cannot be read or
        deleted is reported, and left."""
        try:
            return self._remove()
        except Exception as error:
            if not isinstance(error, DeployError) and not hasattr(error, "response"):
                raise
            return f"kept the template bucket {self.name}: {getattr(error, 'message', error)}"

    def _remove(self) -> str | None:
        if not self.exists():
            return None
        keys: list[str] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.name, ExpectedBucketOwner=self.account_id):
            keys.extend(str(item["Key"]) for item in page.get("Contents") or [])
        foreign = [key for key in keys if not key.startswith(PREFIX)]
        if foreign:
            return f"kept the template bucket {self.name}: it holds {len(foreign)} other objects"
        for key in keys:
            self.s3.delete_object(Bucket=self.name, Key=key, ExpectedBucketOwner=self.account_id)
        self.s3.delete_bucket(Bucket=self.name, ExpectedBucketOwner=self.account_id)
        return f"removed the template bucket {self.name}"


_BUCKETS: weakref.WeakKeyDictionary[Any, dict[str, TemplateBucket]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def template_bucket(runtime: MeshRuntime, account_id: str) -> TemplateBucket:
    """The mesh's template bucket in `account_id`: one object per run and account."""
    with _LOCK:
        buckets = _BUCKETS.setdefault(runtime, {})
        if account_id not in buckets:
            topology = runtime.topology
            buckets[account_id] = TemplateBucket(
                lambda: runtime.sessions.client(account_id, "s3"),
                mesh=topology.name,
                mesh_id=topology.identity,
                account_id=account_id,
                region=topology.region,
                create=not runtime.options.read_only,
                notice=runtime.notice,
            )
        return buckets[account_id]


def remove_template_buckets(runtime: MeshRuntime, account_ids: set[str]) -> list[str]:
    """After `down`: each account's template bucket removed (when only templates are in it)."""
    said = []
    for account_id in sorted(account_ids):
        done = template_bucket(runtime, account_id).remove()
        if done:
            said.append(done)
    return said
