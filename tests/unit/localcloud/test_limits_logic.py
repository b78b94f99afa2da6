"""The local cloud's S3 URL forms and bucket-policy conditions (no moto needed)."""

from __future__ import annotations

from meshlink.localcloud.patches.limits import s3_location
from meshlink.localcloud.patches.s3_policies import conditions_hold


def test_s3_url_forms() -> None:
    assert s3_location("https://b.s3.amazonaws.com/k/t.json") == ("b", "k/t.json")
    assert s3_location("https://b.s3.eu-west-1.amazonaws.com/k") == ("b", "k")
    assert s3_location("https://b.s3-eu-west-1.amazonaws.com/k") == ("b", "k")
    assert s3_location("https://s3.eu-west-1.amazonaws.com/b/k") == ("b", "k")
    assert s3_location("https://s3.amazonaws.com/b/k") == ("b", "k")
    assert s3_location("http://127.0.0.1:4566/b/k/t.json") == ("b", "k/t.json")
    assert s3_location("http://localhost:4566/b/k") == ("b", "k")
    assert s3_location("https://example.com/b/k") is None
    assert s3_location("http://b.s3.amazonaws.com/k") is None  # S3 URLs are https
    assert s3_location("https://s3.amazonaws.com/b") is None  # no key


def test_a_statement_applies_only_when_its_conditions_hold() -> None:
    tls_only = {"Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert not conditions_hold(tls_only)  # requests to the local endpoint count as TLS
    assert conditions_hold({"Condition": {"Bool": {"aws:SecureTransport": ["true"]}}})
    assert conditions_hold({})
    assert not conditions_hold({"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}})
    assert conditions_hold({"Condition": {"Null": {"aws:PrincipalOrgID": "true"}}})
    assert not conditions_hold({"Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
