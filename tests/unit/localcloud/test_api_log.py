"""The local cloud's API-call record: IAM actions of REST (S3) requests, and its filters."""

from __future__ import annotations

import pytest

from meshlink.localcloud import api_log


@pytest.mark.parametrize(
    ("method", "path", "query", "action"),
    [
        ("GET", "/", "", "ListAllMyBuckets"),
        ("PUT", "/bucket", "", "CreateBucket"),
        ("HEAD", "/bucket", "", "ListBucket"),
        ("GET", "/bucket", "list-type=2&prefix=templates/", "ListBucket"),
        ("PUT", "/bucket", "encryption", "PutEncryptionConfiguration"),
        ("PUT", "/bucket", "publicAccessBlock", "PutBucketPublicAccessBlock"),
        ("DELETE", "/bucket", "", "DeleteBucket"),
        ("PUT", "/bucket/templates/a.json", "", "PutObject"),
        ("DELETE", "/bucket/templates/a.json", "", "DeleteObject"),
        ("POST", "/bucket", "delete", "DeleteObject"),
    ],
)
def test_s3_requests_map_to_their_iam_actions(
    method: str, path: str, query: str, action: str
) -> None:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
    assert api_log.s3_action(environ) == action


def test_the_snapshot_filters_by_account_and_session() -> None:
    api_log.reset()
    mine = "arn:aws:sts::111111111111:assumed-role/MeshlinkDeploy/meshlink-shop-ann"
    other = "arn:aws:sts::111111111111:assumed-role/MeshlinkDeploy/meshlink-other-bob"
    calls = [
        api_log.Call("111111111111", mine, "ec2", "DescribeVpcs", "ec2:DescribeVpcs"),
        api_log.Call("111111111111", mine, "ec2", "DescribeVpcs", "ec2:DescribeVpcs"),
        api_log.Call("111111111111", other, "ecs", "RunTask", "ecs:RunTask"),
        api_log.Call("222222222222", mine, "sts", "GetCallerIdentity", "sts:GetCallerIdentity"),
    ]
    for call in calls:
        api_log._calls[call] += 1
    api_log._errors[calls[2]] += 1
    try:
        whole = api_log.snapshot()
        assert sorted(whole["accounts"]) == ["111111111111", "222222222222"]
        ((vpcs, run_task),) = [whole["accounts"]["111111111111"]]
        assert (vpcs["action"], vpcs["calls"], vpcs["errors"]) == ("ec2:DescribeVpcs", 2, 0)
        assert (run_task["action"], run_task["errors"]) == ("ecs:RunTask", 1)
        assert api_log.actions_of(whole, "/meshlink-shop-") == {
            "ec2:DescribeVpcs",
            "sts:GetCallerIdentity",
        }
        only = api_log.snapshot(account="222222222222", session="meshlink-shop-")
        assert list(only["accounts"]) == ["222222222222"]
    finally:
        api_log.reset()
    assert api_log.snapshot() == {"accounts": {}}


def test_iam_actions_use_the_iam_prefix_not_the_signing_name() -> None:
    assert api_log.iam_action("monitoring", "DescribeAlarms") == "cloudwatch:DescribeAlarms"
    assert api_log.iam_action("elasticloadbalancing", "DescribeTargetHealth") == (
        "elasticloadbalancing:DescribeTargetHealth"
    )


@pytest.mark.parametrize(
    ("service", "method", "path", "operation"),
    [
        ("ram", "POST", "/createresourceshare", "CreateResourceShare"),
        ("ram", "POST", "/getresourceshareinvitations", "GetResourceShareInvitations"),
        ("ram", "DELETE", "/deleteresourceshare", "DeleteResourceShare"),
        # A literal segment wins over a parameter ({FunctionName}/configuration).
        ("lambda", "GET", "/2015-03-31/functions/f/configuration", "GetFunctionConfiguration"),
        ("lambda", "GET", "/2015-03-31/functions/f", "GetFunction"),
        ("ram", "GET", "/nothing-here", None),
        ("no-such-service", "POST", "/x", None),
    ],
)
def test_rest_requests_map_to_their_operations(
    service: str, method: str, path: str, operation: str | None
) -> None:
    """REST services name no action in the request: botocore's routes say which it is."""
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path}
    assert api_log.rest_operation(service, environ) == operation
