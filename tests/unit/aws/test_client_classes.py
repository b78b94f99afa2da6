"""A factory's sessions share each service's client class; clients keep their own state."""

from __future__ import annotations

from typing import Any

import boto3

from meshlink.aws.sessions import SessionFactory


def client(factory: SessionFactory, service: str, key: str) -> Any:
    session = boto3.Session(botocore_session=factory._botocore_session())
    return session.client(
        service,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key="secret",  # a fake key, never sent
        endpoint_url="http://127.0.0.1:9",
    )


def test_two_accounts_clients_share_the_class_and_not_the_credentials() -> None:
    factory = SessionFactory("local", "us-east-1", "http://127.0.0.1:9")
    first, second = client(factory, "ec2", "AKIAFIRST"), client(factory, "ec2", "AKIASECOND")
    assert type(first) is type(second)
    assert first._request_signer._credentials.access_key == "AKIAFIRST"
    assert second._request_signer._credentials.access_key == "AKIASECOND"
    assert first.meta.events is not second.meta.events  # hooks stay per client
    assert type(client(factory, "ecs", "AKIAFIRST")) is not type(first)


def test_another_factory_builds_its_own_classes() -> None:
    one = SessionFactory("local", "us-east-1", "http://127.0.0.1:9")
    other = SessionFactory("local", "us-east-1", "http://127.0.0.1:9")
    assert type(client(one, "sts", "AKIA1")) is not type(client(other, "sts", "AKIA1"))
