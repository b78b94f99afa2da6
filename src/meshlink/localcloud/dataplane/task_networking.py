"""Fargate networking: a task starts only if its subnet can reach what starting needs.

On Fargate platform 1.4 every request a task makes to start — ECR registry auth, the
image manifest and layers, the awslogs log stream — leaves through the task's own ENI
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html).
With no route to a NAT gateway (or an internet gateway with a public IP, or a transit
gateway to an egress VPC), only VPC endpoints reach them: interface endpoints with
private DNS for ``ecr.api``, ``ecr.dkr`` and ``logs``, and the ``s3`` gateway endpoint on
the subnet's route table, where ECR keeps the layers
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html). Otherwise
the task stops with the reason AWS gives
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html).

Always on, as on AWS. What the local cloud does not judge: which registry the image is
in (it runs the bundled service whatever the image says). On AWS an image outside the
region's ECR (ghcr.io, Docker Hub, public.ecr.aws) needs internet egress whatever
endpoints there are.

:func:`start_failure` runs under the moto lock (it reads moto's EC2 state).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# The reasons ECS gives; a stop reason that starts with one of these is shown as it is.
STOP_REASONS = ("ResourceInitializationError:", "CannotPullContainerError:")
DEFAULT_ROUTES = ("0.0.0.0/0",)
UNUSABLE_NAT_STATES = ("failed", "deleting", "deleted")


def _timeout(method: str, url: str, host: str) -> str:
    return f'{method} "{url}": dial tcp {host}:443: i/o timeout'


def _registry_auth(region: str, image: str) -> str:
    host = f"api.ecr.{region}.amazonaws.com"
    return (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution "
        "resource retrieval failed: unable to retrieve ecr registry auth: service call has "
        "been retried 3 time(s): RequestError: send request failed caused by: "
        f"{_timeout('Post', f'https://{host}/', host)}. "
        "Please check your task network configuration."
    )


def _manifest(region: str, image: str) -> str:
    registry, _, rest = image.partition("/")
    repository, _, tag = rest.rpartition(":") if ":" in rest else (rest, "", "latest")
    url = f"https://{registry}/v2/{repository}/manifests/{tag or 'latest'}"
    return (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed "
        f"to resolve ref {image}: failed to do request: {_timeout('Head', url, registry)}"
    )


def _layers(region: str, image: str) -> str:
    host = f"prod-{region}-starport-layer-bucket.s3.{region}.amazonaws.com"
    return (
        "CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: "
        "httpReadSeeker: failed open: failed to do request: "
        f"{_timeout('Get', f'https://{host}/', host)}"
    )


def _log_stream(region: str, image: str) -> str:
    host = f"logs.{region}.amazonaws.com"
    return (
        "ResourceInitializationError: failed to validate logger args: create stream has "
        "been retried 1 times: failed to create Cloudwatch log stream: RequestError: send "
        f"request failed caused by: {_timeout('Post', f'https://{host}/', host)} : exit status 1"
    )


# What a task needs, in the order the Fargate agent needs it, and the reason it stops
# with when the VPC has no endpoint for it: (service, endpoint type, reason).
NEEDS: tuple[tuple[str, str, Callable[[str, str], str]], ...] = (
    ("ecr.api", "interface", _registry_auth),
    ("ecr.dkr", "interface", _manifest),
    ("s3", "gateway", _layers),
    ("logs", "interface", _log_stream),
)


def start_failure(task: Any, ec2: Any, container: dict[str, Any], eni_id: str | None) -> str | None:
    """The stoppedReason of a Fargate task that cannot start from where it is, or None."""
    if str(getattr(task, "launch_type", "") or "FARGATE").upper() != "FARGATE":
        return None
    config = (getattr(task, "network_configuration", None) or {}).get("awsvpcConfiguration") or {}
    subnet = _subnet_of(ec2, eni_id, config)
    if subnet is None:
        return None  # not awsvpc: nothing to judge
    # A subnet shared with the task's account (AWS RAM) routes as its owner's VPC does.
    ec2 = getattr(subnet, "ec2_backend", None) or ec2
    table = route_table_of(ec2, subnet)
    public_ip = str(config.get("assignPublicIp") or "DISABLED").upper() == "ENABLED"
    if table is not None and has_egress(table, public_ip):
        return None
    reachable = endpoint_services(ec2, str(subnet.vpc_id), table)
    logs = (container.get("logConfiguration") or {}).get("logDriver") == "awslogs"
    image = str(container.get("image") or "")
    for service, _kind, reason in NEEDS:
        if service == "logs" and not logs:
            continue
        if service not in reachable:
            return reason(ec2.region_name, image)
    return None


def is_stop_reason(text: str) -> bool:
    """Whether `text` is already a reason as ECS words it (shown without a prefix)."""
    return text.startswith(STOP_REASONS)


def _subnet_of(ec2: Any, eni_id: str | None, config: dict[str, Any]) -> Any | None:
    """moto's Subnet the task's ENI is in (or the first of its configuration), or None."""
    eni = ec2.enis.get(eni_id) if eni_id else None
    if eni is not None and getattr(eni, "subnet", None) is not None:
        return eni.subnet
    for subnet_id in list(config.get("subnets") or [])[:1]:
        try:  # the account's own subnet, or one shared with it (patches/shared_subnets.py)
            return ec2.get_subnet(subnet_id)
        except Exception:  # moto's InvalidSubnetIdError
            return None
    return None


def route_table_of(ec2: Any, subnet: Any) -> Any | None:
    """The subnet's route table: its explicit association, else its VPC's main table."""
    main = None
    for table in list(ec2.route_tables.values()):
        if subnet.id in table._associations.values():
            return table
        if table.vpc_id == subnet.vpc_id and table.main_association_id is not None:
            main = table
    return main


def has_egress(table: Any, public_ip: bool) -> bool:
    """A default route to a NAT gateway, a transit gateway, or an IGW (with a public IP)."""
    for route in table.routes:
        if route.destination_cidr_block not in DEFAULT_ROUTES:
            continue
        nat = route.nat_gateway
        if nat is not None and str(getattr(nat, "state", "available")) not in (UNUSABLE_NAT_STATES):
            return True
        if route.transit_gateway is not None:
            return True
        gateway = str(getattr(route.gateway, "id", "") or "")
        if public_ip and gateway.startswith("igw-"):
            return True
    return False


def endpoint_services(ec2: Any, vpc_id: str, table: Any | None) -> set[str]:
    """The AWS services (``ecr.api``, ``s3``, ...) a task in `table`'s subnets reaches."""
    prefix = f"com.amazonaws.{ec2.region_name}."
    found: set[str] = set()
    for endpoint in _available(ec2.vpc_end_points.values(), vpc_id):
        name = str(endpoint.service_name)
        if not name.startswith(prefix):
            continue
        service = name[len(prefix) :]
        kind = str(endpoint.vpc_endpoint_type or "").lower()
        interface = kind == "interface" and endpoint.private_dns_enabled is True
        on_table = table is not None and table.id in (endpoint.route_table_ids or [])
        if interface or (kind == "gateway" and on_table):
            found.add(service)
    return found


def _available(endpoints: Iterable[Any], vpc_id: str) -> list[Any]:
    return [e for e in list(endpoints) if e.vpc_id == vpc_id and e.state == "available"]
