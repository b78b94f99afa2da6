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
# SDK errors (or their bases) meaning the endpoint did not answer at all.
UNREACHABLE_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ProxyConnectionError",
        "HTTPClientError",
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


def is_unreachable(error: BaseException) -> bool:
    """True for an SDK error saying the endpoint did not answer (refused, closed, timed out)."""
    return is_sdk_error(error) and any(
        cls.__name__ in UNREACHABLE_ERRORS for cls in type(error).__mro__
    )


def endpoint_of(error: BaseException) -> str | None:
    """The endpoint URL an SDK connection error names (None when it names none)."""
    kwargs = getattr(error, "kwargs", None)
    url = kwargs.get("endpoint_url") if isinstance(kwargs, dict) else None
    return str(url) if url else None


def local_cloud_stopped(error: BaseException, *, action: str | None = None) -> MeshlinkError | None:
    """LocalCloudStopped when `error` is the local cloud not answering, else None."""
    from meshlink.localcloud.errors import LocalCloudStopped, is_local_endpoint

    url = endpoint_of(error)
    if not is_unreachable(error) or not is_local_endpoint(url):
        return None
    from meshlink.localcloud.daemon import log_path

    base = url.split("/", 3)[:3] if url else []
    return LocalCloudStopped(
        endpoint_url="/".join(base) or None, log_file=log_path(), action=action
    )


def from_sdk_error(error: BaseException) -> MeshlinkError:
    """The meshlink error an AWS SDK error stands for: environment (exit 3) or failure (exit 1)."""
    stopped = local_cloud_stopped(error)
    if stopped is not None:
        return stopped
    code = error_code(error)
    environment = code in CREDENTIAL_CODES or type(error).__name__ in ENVIRONMENT_ERRORS
    if environment or is_unreachable(error):
        return AwsEnvironmentProblem(f"AWS: {error}", code=code)
    return AwsError(f"AWS: {error}", code=code)
