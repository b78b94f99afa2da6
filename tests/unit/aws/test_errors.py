"""AWS SDK errors become meshlink errors: environment (exit 3) or failure (exit 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
)

from meshlink.aws.errors import (
    ENVIRONMENT_HINT,
    AwsEnvironmentProblem,
    AwsError,
    error_code,
    error_message,
    from_sdk_error,
    is_sdk_error,
    is_unreachable,
)
from meshlink.errors import EXIT_ENVIRONMENT, EXIT_FAILURE, DeployError, EnvironmentProblem
from meshlink.localcloud.errors import LocalCloudStopped


def client_error(code: str, message: str = "nope") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeStacks")


def test_error_code_and_message_of_a_client_error() -> None:
    error = client_error("ValidationError", "Stack with id x does not exist")
    assert error_code(error) == "ValidationError"
    assert error_message(error) == "Stack with id x does not exist"


def test_error_code_is_empty_for_anything_else() -> None:
    assert error_code(ValueError("x")) == ""
    assert error_code(EndpointConnectionError(endpoint_url="http://localhost:1")) == ""
    assert error_message(ValueError("plain")) == "plain"


def test_only_sdk_errors_are_recognised() -> None:
    assert is_sdk_error(client_error("X"))
    assert is_sdk_error(NoCredentialsError())
    assert not is_sdk_error(ValueError("x"))
    assert not is_sdk_error(DeployError("x"))


def test_unreachable_aws_endpoint_is_an_environment_problem_with_a_hint() -> None:
    url = "https://ec2.us-east-1.amazonaws.com/"
    mapped = from_sdk_error(EndpointConnectionError(endpoint_url=url))
    assert isinstance(mapped, AwsEnvironmentProblem) and isinstance(mapped, EnvironmentProblem)
    assert mapped.exit_code == EXIT_ENVIRONMENT
    assert mapped.message == f'AWS: Could not connect to the endpoint URL: "{url}"'
    assert mapped.hint == ENVIRONMENT_HINT
    assert "meshlink local status" in mapped.hint


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="http://localhost:4580/"),
        ConnectionClosedError(endpoint_url="http://127.0.0.1:4580/"),
    ],
)
def test_unreachable_local_cloud_names_its_log_and_how_to_start_it(
    error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHLINK_STATE_DIR", str(tmp_path))
    assert is_unreachable(error)
    mapped = from_sdk_error(error)
    assert isinstance(mapped, LocalCloudStopped)
    assert mapped.exit_code == EXIT_ENVIRONMENT
    assert mapped.message.startswith("the local cloud at http")
    assert mapped.message.endswith(":4580 stopped answering")
    assert mapped.hint == (
        f"its log: {tmp_path}/localcloud.log\n"
        "start it with: meshlink local start\n"
        "then run the same command again"
    )
    assert "Error" not in mapped.message  # no SDK class names for people


def test_only_connection_errors_are_unreachable() -> None:
    assert not is_unreachable(client_error("Throttling"))
    assert not is_unreachable(NoCredentialsError())
    assert not is_unreachable(ConnectionRefusedError())  # not the SDK's


@pytest.mark.parametrize("error", [NoCredentialsError(), NoRegionError()])
def test_missing_credentials_or_region_is_an_environment_problem(error: Exception) -> None:
    mapped = from_sdk_error(error)
    assert mapped.exit_code == EXIT_ENVIRONMENT and mapped.hint == ENVIRONMENT_HINT
    assert mapped.message == f"AWS: {error}"


@pytest.mark.parametrize("code", ["ExpiredToken", "AccessDenied", "InvalidClientTokenId"])
def test_refused_credentials_are_an_environment_problem(code: str) -> None:
    mapped = from_sdk_error(client_error(code))
    assert isinstance(mapped, AwsEnvironmentProblem)
    assert mapped.exit_code == EXIT_ENVIRONMENT and mapped.code == code


def test_other_client_errors_are_failures_carrying_their_code() -> None:
    error = client_error("InvalidServiceName", "no such service")
    mapped = from_sdk_error(error)
    assert isinstance(mapped, AwsError) and isinstance(mapped, DeployError)
    assert mapped.exit_code == EXIT_FAILURE
    assert mapped.code == "InvalidServiceName"
    assert mapped.message == f"AWS: {error}"
    assert "InvalidServiceName" in mapped.message
    assert mapped.hint is None


def test_other_sdk_errors_are_failures() -> None:
    mapped = from_sdk_error(ParamValidationError(report="bad parameter"))
    assert type(mapped) is AwsError and mapped.exit_code == EXIT_FAILURE and mapped.code == ""
