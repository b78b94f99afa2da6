"""AWS SDK errors: their codes, and what they mean to a meshlink user.

Imports nothing from botocore: SDK errors are recognised by their module and class
name, so the CLI can map them without loading the SDK (`meshlink --help` stays instant).
"""

from __future__ import annotations

from meshlink.errors import DeployError, EnvironmentProblem, MeshlinkError

# Codes AWS answers with when the caller's credentials are missing, wrong or expired.
CREDENTIAL_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "AuthFailure",
    }
)
# SDK errors raised before any request is answered: no credentials, no region, no network.
ENVIRONMENT_ERRORS = frozenset(
    {
        "NoCredentialsError",
        "PartialCredentialsError",
        "ProfileNotFound",
        "NoRegionError",
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "SSOTokenLoadError",
        "TokenRetrievalError",
    }
)
ENVIRONMENT_HINT = (
    "check your credentials, profile and network (target: local: meshlink local status)"
)


class AwsEnvironmentProblem(EnvironmentProblem):
    """AWS could not be reached or would not accept the caller's credentials."""

    def __init__(self, message: str, *, code: str = "", hint: str | None = ENVIRONMENT_HINT):
        super().__init__(message, hint=hint)
        self.code = code


class AwsError(DeployError):
    """AWS refused a call outside a node (plan, status, rebuild); `code` is AWS's error code."""

    def __init__(self, message: str, *, code: str = "", hint: str | None = None):
        super().__init__(message, hint=hint)
        self.code = code


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    """AWS's own message of a ClientError (the whole text for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        message = response.get("Error", {}).get("Message")
        if message:
            return str(message)
    return str(exc)


def is_sdk_error(error: BaseException) -> bool:
    """True for an exception raised by botocore or boto3."""
    return type(error).__module__.startswith(("botocore", "boto3"))


def from_sdk_error(error: BaseException) -> MeshlinkError:
    """The meshlink error an AWS SDK error stands for: environment (exit 3) or failure (exit 1)."""
    code = error_code(error)
    if code in CREDENTIAL_CODES or type(error).__name__ in ENVIRONMENT_ERRORS:
        return AwsEnvironmentProblem(f"AWS: {error}", code=code)
    return AwsError(f"AWS: {error}", code=code)
