"""Quotas the local cloud enforces as AWS does: template sizes, endpoints, listeners.

moto 5.2.5 takes a template body of any size, reads a ``TemplateURL`` only in a few URL
forms (and never the local endpoint's own address), and lets a VPC hold any number of
interface endpoints and a load balancer any number of listeners. Each rule below cites
the AWS page it follows; each error has AWS's code and wording.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlparse

from meshlink.localcloud.patches.registry import replace, wrap

# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
# "Template body size in a request": 51,200 bytes (the API's TemplateBody member, whose
# violation reads "Member must have length less than or equal to 51200").
TEMPLATE_BODY_LIMIT = 51_200
# Same page, "Template body size in an Amazon S3 object": 1 MB. AWS's sizes here are
# binary (51,200 = 50 KiB; the former S3 limit, 460,800 = 450 KiB), so 1 MB = 1 MiB.
TEMPLATE_URL_OBJECT_LIMIT = 1_048_576
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
# (TemplateURL: "Maximum length of 5120").
TEMPLATE_URL_LENGTH_LIMIT = 5_120
# https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html
# "Interface VPC endpoints per VPC: 50" (adjustable; the default is what an account has).
INTERFACE_ENDPOINTS_PER_VPC = 50
# https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html
# "Listeners per load balancer: 50".
LISTENERS_PER_NLB = 50
# Endpoint states that no longer count against the VPC's quota.
GONE_ENDPOINT_STATES = frozenset({"deleted", "deleting", "failed", "rejected"})

_RESPONSES = "moto.cloudformation.responses:CloudFormationResponse"
# The S3 URL forms CloudFormation reads (virtual-hosted and path style, with or without
# the region: https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html).
_VIRTUAL_HOSTED = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3([.-][a-z0-9-]+)?\.amazonaws\.com$"
)
_PATH_STYLE = re.compile(r"^s3([.-][a-z0-9-]+)?\.amazonaws\.com$")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _validation_error(message: str) -> Exception:
    from moto.cloudformation.exceptions import ValidationError

    return ValidationError(message=message)


def check_template_body(body: str | None) -> None:
    """AWS's ValidationError for a TemplateBody over 51,200 bytes."""
    if body is None or len(body.encode()) <= TEMPLATE_BODY_LIMIT:
        return
    # AWS quotes the whole value; a shortened one keeps the local cloud's log readable.
    shown = body[:60] + "..."
    raise _validation_error(
        f"1 validation error detected: Value '{shown}' at 'templateBody' failed to satisfy "
        f"constraint: Member must have length less than or equal to {TEMPLATE_BODY_LIMIT}"
    )


def s3_location(url: str) -> tuple[str, str] | None:
    """(bucket, key) of an S3 object URL CloudFormation accepts; None for any other URL.

    The local cloud's own endpoint (``http://127.0.0.1:<port>/<bucket>/<key>``, path
    style) counts as S3 too: it is where a local client puts its objects.
    """
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    path = unquote(parsed.path).lstrip("/")
    hosted = _VIRTUAL_HOSTED.match(host)
    if parsed.scheme == "https" and hosted and not _PATH_STYLE.match(host):
        return (hosted["bucket"], path) if path else None
    path_style = parsed.scheme == "https" and _PATH_STYLE.match(host)
    if path_style or (parsed.scheme in ("http", "https") and host in _LOCAL_HOSTS):
        bucket, _, key = path.partition("/")
        return (bucket, key) if bucket and key else None
    return None


def read_template_url(url: str, account_id: str, partition: str = "aws") -> str:
    """The template an S3 URL points at, or CloudFormation's ValidationError."""
    from moto.s3.models import s3_backends

    if len(url) > TEMPLATE_URL_LENGTH_LIMIT:
        raise _validation_error(
            f"1 validation error detected: Value at 'templateURL' failed to satisfy "
            f"constraint: Member must have length less than or equal to "
            f"{TEMPLATE_URL_LENGTH_LIMIT}"
        )
    location = s3_location(url)
    if location is None:
        raise _validation_error("TemplateURL must be a supported URL.")
    bucket, key = location
    backend = s3_backends[account_id][partition]
    # Only the caller's own buckets: the local cloud evaluates no bucket policies, and a
    # private bucket of another account is unreadable on AWS too.
    found = backend.get_object(bucket, key) if bucket in backend.buckets else None
    if found is None:
        raise _validation_error(
            "TemplateURL must reference a valid S3 object to which you have access."
        )
    body: bytes = found.value
    if len(body) > TEMPLATE_URL_OBJECT_LIMIT:
        raise _validation_error(
            f"Template may not exceed {TEMPLATE_URL_OBJECT_LIMIT} bytes in size."
        )
    return body.decode("utf-8")


@replace(_RESPONSES, "_get_stack_from_s3_url")
def _get_stack_from_s3_url(self: Any, template_url: str) -> str:
    return read_template_url(template_url, self.current_account, self.partition)


def _checking_body(original: Any, self: Any) -> Any:
    check_template_body(self._get_param("TemplateBody"))
    return original(self)


# Each call that takes a TemplateBody (CreateStack, UpdateStack, CreateChangeSet,
# ValidateTemplate: the quotas page and each API reference page).
for _action in ("create_stack", "update_stack", "create_change_set", "validate_template"):
    wrap(_RESPONSES, _action)(_checking_body)


# On EC2Backend, the class moto calls: a wrap of VPCBackend would be shadowed by the
# consistency patch's wrap there (installed earlier).
@wrap("moto.ec2.models:EC2Backend", "create_vpc_endpoint")
def _create_vpc_endpoint(
    original: Any, self: Any, vpc_id: str, service_name: str, *args: Any, **kwargs: Any
) -> Any:
    endpoint_type = str(kwargs.get("endpoint_type", args[0] if args else None) or "")
    if endpoint_type.lower() == "interface":
        live = [
            e
            for e in self.vpc_end_points.values()
            if e.vpc_id == vpc_id
            and str(e.vpc_endpoint_type or "").lower() == "interface"
            and e.state not in GONE_ENDPOINT_STATES
        ]
        if len(live) >= INTERFACE_ENDPOINTS_PER_VPC:
            from moto.ec2.exceptions import EC2ClientError

            raise EC2ClientError(
                "VpcEndpointLimitExceeded",
                f"The maximum number of interface VPC endpoints per VPC "
                f"({INTERFACE_ENDPOINTS_PER_VPC}) has been reached for {vpc_id}.",
            )
    return original(self, vpc_id, service_name, *args, **kwargs)


@wrap("moto.elbv2.models:ELBv2Backend", "create_listener")
def _create_listener(
    original: Any, self: Any, load_balancer_arn: str, *args: Any, **kw: Any
) -> Any:
    balancer = self.load_balancers.get(load_balancer_arn)
    if balancer is not None and len(balancer.listeners) >= LISTENERS_PER_NLB:
        from moto.elbv2.exceptions import ELBClientError

        raise ELBClientError(
            "TooManyListeners",
            "You've reached the limit on the number of listeners per load balancer",
        )
    return original(self, load_balancer_arn, *args, **kw)
