"""meshlink's template bucket: its name, its protections, and removal only when empty of
anything but templates (an S3 double; the real thing: functional/test_large_templates.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshlink.deploy.template_bucket import TemplateBucket
from meshlink.errors import DeployError
from meshlink.topology.naming import BUCKET_NAME_LIMIT, template_bucket_name


class S3:
    """Records calls; a bucket exists once created; objects by key."""

    def __init__(self, *, exists: bool = False, keys: tuple[str, ...] = ()) -> None:
        self.exists = exists
        self.keys = list(keys)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((operation, kwargs))
            if operation == "head_bucket" and not self.exists:
                raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadBucket")
            if operation == "create_bucket":
                self.exists = True
            if operation == "put_object":
                self.keys.append(kwargs["Key"])
            if operation == "delete_object":
                self.keys.remove(kwargs["Key"])
            return {}

        return call

    def get_paginator(self, _name: str) -> Any:
        keys = self.keys

        class Pages:
            def paginate(self, **_kwargs: Any) -> list[dict[str, Any]]:
                return [{"Contents": [{"Key": key} for key in keys]}]

        return Pages()

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]


def bucket(s3: S3, **kwargs: Any) -> TemplateBucket:
    return TemplateBucket(
        lambda: s3,
        mesh="shop",
        mesh_id="5e1d0c3a",
        account_id="111111111111",
        region="eu-west-1",
        **kwargs,
    )


def test_the_name_is_deterministic_and_fits_s3() -> None:
    assert template_bucket_name("shop", "111111111111", "us-east-1") == (
        "meshlink-shop-111111111111-us-east-1"
    )
    long_a = template_bucket_name("a" * 40 + "-x", "111111111111", "ap-southeast-2")
    long_b = template_bucket_name("a" * 40 + "-y", "111111111111", "ap-southeast-2")
    assert len(long_a) <= BUCKET_NAME_LIMIT and len(long_b) <= BUCKET_NAME_LIMIT
    assert long_a != long_b  # the digest keeps two long meshes apart
    assert long_a == template_bucket_name("a" * 40 + "-x", "111111111111", "ap-southeast-2")


def test_first_put_creates_a_private_encrypted_tls_only_bucket_once() -> None:
    s3 = S3()
    said: list[str] = []
    store = bucket(s3, notice=said.append)
    url = store.put("meshlink-shop-endpoints-a", "{}")
    store.put("meshlink-shop-endpoints-b", "{}")
    assert url.startswith(
        "https://meshlink-shop-111111111111-eu-west-1.s3.eu-west-1.amazonaws.com/"
    )
    assert "/templates/meshlink-shop-endpoints-a/" in url
    assert s3.ops().count("create_bucket") == 1 and s3.ops().count("put_object") == 2
    calls = dict(s3.calls)
    assert calls["create_bucket"]["CreateBucketConfiguration"] == {
        "LocationConstraint": "eu-west-1"
    }
    assert calls["create_bucket"]["ObjectOwnership"] == "BucketOwnerEnforced"
    assert all(calls["put_public_access_block"]["PublicAccessBlockConfiguration"].values())
    assert "aws:SecureTransport" in calls["put_bucket_policy"]["Policy"]
    assert calls["put_object"]["ExpectedBucketOwner"] == "111111111111"
    assert said and "created the template bucket" in said[0]
    store.discard(url)
    assert s3.calls[-1][0] == "delete_object"


def test_planning_never_creates_the_bucket() -> None:
    s3 = S3()
    with pytest.raises(DeployError, match="does not exist"):
        bucket(s3, create=False).put("s", "{}")
    assert "create_bucket" not in s3.ops()


def test_remove_deletes_leftover_templates_but_keeps_a_bucket_with_other_objects() -> None:
    assert bucket(S3()).remove() is None  # nothing there
    left = S3(exists=True, keys=("templates/s/abc.json",))
    assert (
        bucket(left).remove() == "removed the template bucket meshlink-shop-111111111111-eu-west-1"
    )
    assert left.ops()[-1] == "delete_bucket" and left.keys == []
    other = S3(exists=True, keys=("templates/s/abc.json", "someone/else.txt"))
    assert "kept the template bucket" in (bucket(other).remove() or "")
    assert "delete_bucket" not in other.ops()


def test_a_bucket_down_cannot_read_is_reported_not_fatal() -> None:
    class Forbidden(S3):
        def __getattr__(self, operation: str) -> Any:
            def call(**kwargs: Any) -> dict[str, Any]:
                raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, operation)

            return call

    said = bucket(Forbidden()).remove()
    assert said is not None and said.startswith("kept the template bucket")
