"""Semantic rules that pydantic cannot express; each finding is located in the file."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable, Iterator

from meshlink.errors import Problem
from meshlink.topology.addressing import TIERS, largest_vpc_prefix
from meshlink.topology.locations import Locations, PathKey
from meshlink.topology.model import DEFAULT_IMAGE, DEFAULT_PROBE_IMAGE, MESH_ID_PATTERN, Topology
from meshlink.topology.naming import (
    STACK_NAME_LIMIT,
    logical_id,
    stack_name,
)
from meshlink.topology.network_rules import NETWORK_RULES
from meshlink.topology.operations_rules import OPERATIONS_RULES
from meshlink.topology.regions import az_count

Rule = Callable[[Topology, Locations], Iterator[Problem]]
LONGEST_NODE_KIND = "endpoints"
# Fargate task sizes: cpu units -> memory MiB from..to in 1024 steps (256 is listed apart).
FARGATE_MEMORY_RANGES = {
    512: (1024, 4096),
    1024: (2048, 8192),
    2048: (4096, 16384),
    4096: (8192, 30720),
}


def _at(locations: Locations, path: PathKey, message: str, hint: str | None) -> Problem:
    line, col = locations.of_value(path)
    return Problem(message, line, col, hint)


def _at_key(locations: Locations, path: PathKey, message: str, hint: str | None) -> Problem:
    line, col = locations.of_key(path)
    return Problem(message, line, col, hint)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    choices = ", ".join(sorted(known)) or "none"
    return f"did you mean '{close[0]}'?" if close else f"known names: {choices}"


def service_accounts_exist(topology: Topology, locations: Locations) -> Iterator[Problem]:
    for name, service in topology.services.items():
        if service.account not in topology.accounts:
            yield _at(
                locations,
                ("services", name, "account"),
                f"service '{name}' runs in unknown account '{service.account}'",
                _suggest(service.account, list(topology.accounts)),
            )


def consumes_are_valid(topology: Topology, locations: Locations) -> Iterator[Problem]:
    known = [*topology.services, *topology.external]
    for name, service in topology.services.items():
        seen: set[str] = set()
        for index, peer in enumerate(service.consumes):
            path = ("services", name, "consumes", index)
            if peer == name:
                yield _at(
                    locations,
                    path,
                    f"service '{name}' consumes itself",
                    "a service reaches itself without PrivateLink; remove it from consumes",
                )
            elif peer not in known:
                yield _at(
                    locations,
                    path,
                    f"service '{name}' consumes unknown service '{peer}'",
                    _suggest(peer, known) + " (define it under services or external)",
                )
            elif peer in seen:
                yield _at(locations, path, f"'{peer}' is listed twice in consumes", "list it once")
            seen.add(peer)


def names_are_unique(topology: Topology, locations: Locations) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    for group in ("accounts", "services", "external"):
        for name in getattr(topology, group):
            key = (group if group == "accounts" else "peer") + ":" + logical_id(name)
            if key in seen and seen[key] != name:
                yield _at_key(
                    locations,
                    (group, name),
                    f"'{name}' and '{seen[key]}' give the same CloudFormation id "
                    f"'{logical_id(name)}'",
                    "names must differ by more than a hyphen",
                )
            seen.setdefault(key, name)
    for name in topology.external:
        if name in topology.services:
            yield _at_key(
                locations,
                ("external", name),
                f"'{name}' is both a service and an external service",
                "rename one of them: consumes must name exactly one thing",
            )


def _parse_cidr(text: str) -> ipaddress.IPv4Network | str:
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        return str(exc)


def cidrs_are_valid(topology: Topology, locations: Locations) -> Iterator[Problem]:
    smallest = largest_vpc_prefix(topology.network.az_count)
    parsed: dict[str, ipaddress.IPv4Network] = {}
    for key, account in topology.accounts.items():
        if account.vpc_cidr is None:
            continue  # no VPC of its own, or reported by vpc_cidrs_where_vpcs_are
        path = ("accounts", key, "vpc_cidr")
        network = _parse_cidr(account.vpc_cidr)
        if isinstance(network, str):
            yield _at(
                locations,
                path,
                f"invalid vpc_cidr '{account.vpc_cidr}': {network}",
                "write an IPv4 network with its host bits zero, e.g. 10.1.0.0/16",
            )
            continue
        if network.prefixlen < 16 or network.prefixlen > smallest:
            yield _at(
                locations,
                path,
                f"vpc_cidr /{network.prefixlen} cannot hold {len(TIERS)} subnets in each of "
                f"{topology.network.az_count} AZs",
                f"use a prefix between /16 and /{smallest} (AWS allows /16 to /28 per subnet)",
            )
        parsed[key] = network
    # Two VPCs in the same AWS account must not overlap; across accounts PrivateLink allows it.
    by_account_id: dict[str, list[str]] = defaultdict(list)
    for key in parsed:
        by_account_id[topology.accounts[key].id].append(key)
    for keys in by_account_id.values():
        for index, first in enumerate(keys):
            for second in keys[index + 1 :]:
                if parsed[first].overlaps(parsed[second]):
                    yield _at(
                        locations,
                        ("accounts", second, "vpc_cidr"),
                        f"vpc_cidr of '{second}' overlaps '{first}' in the same AWS account "
                        f"{topology.accounts[second].id}",
                        "give VPCs that share an account disjoint CIDRs",
                    )


def ports_are_distinct(topology: Topology, locations: Locations) -> Iterator[Problem]:
    first_on_port: dict[tuple[str, int], str] = {}
    for name, service in topology.services.items():
        key = (service.account, service.port)
        if key in first_on_port:
            yield _at(
                locations,
                ("services", name, "port"),
                f"port {service.port} is already used by '{first_on_port[key]}' in account "
                f"'{service.account}'",
                "give each service of an account its own port",
            )
        else:
            first_on_port[key] = name


def names_fit_aws_limits(topology: Topology, locations: Locations) -> Iterator[Problem]:
    # No load-balancer name to fit: CloudFormation names the NLB and the target group, so
    # that a change can replace them (stacks/edge.py).
    for group in ("services", "accounts"):
        for name in getattr(topology, group):
            stack = stack_name(topology.name, LONGEST_NODE_KIND, name)
            if len(stack) > STACK_NAME_LIMIT:
                yield _at_key(
                    locations,
                    (group, name),
                    f"stack name '{stack}' is longer than {STACK_NAME_LIMIT} characters",
                    "shorten the name",
                )


def az_count_fits_region(topology: Topology, locations: Locations) -> Iterator[Problem]:
    offered = az_count(topology.region)
    if offered is None:
        yield _at(
            locations,
            ("region",),
            f"unknown region '{topology.region}'",
            _suggest(topology.region, list(_known_regions())),
        )
    elif topology.network.az_count > offered:
        yield _at(
            locations,
            ("network", "az_count"),
            f"az_count {topology.network.az_count} is more than {topology.region} offers "
            f"({offered})",
            f"use at most {offered}",
        )


def _known_regions() -> list[str]:
    from meshlink.topology.regions import AZ_COUNT_BY_REGION

    return list(AZ_COUNT_BY_REGION)


def aws_accounts_are_reachable(topology: Topology, locations: Locations) -> Iterator[Problem]:
    if topology.target != "aws":
        return
    if len({account.id for account in topology.accounts.values()}) < 2:
        return
    for key, account in topology.accounts.items():
        if account.role is None and account.profile is None:
            yield _at_key(
                locations,
                ("accounts", key),
                f"account '{key}' has neither role nor profile, so meshlink cannot reach it",
                "add role: <role name> (assumed from your credentials) or profile: <name>",
            )


def principals_belong_to_their_account(
    topology: Topology, locations: Locations
) -> Iterator[Problem]:
    for key, account in topology.accounts.items():
        if account.principal.startswith("arn:") and f"::{account.id}:" not in account.principal:
            yield _at(
                locations,
                ("accounts", key, "principal"),
                f"principal of account '{key}' is in another account",
                f"use an ARN of account {account.id}, or 'root' / 'role'",
            )


def roles_belong_to_their_account(topology: Topology, locations: Locations) -> Iterator[Problem]:
    for key, account in topology.accounts.items():
        role = account.role or ""
        # The model has checked the shape: arn:<partition>:iam::<12 digits>:role/<name>.
        if role.startswith("arn:") and role.split(":")[4] != account.id:
            yield _at(
                locations,
                ("accounts", key, "role"),
                f"role of account '{key}' is in another account ({role.split(':')[4]})",
                f"use a role ARN of account {account.id}, or just the role name",
            )


def account_ids_are_unique(topology: Topology, locations: Locations) -> Iterator[Problem]:
    # meshlink creates one ECS cluster and log group per mesh in each account: a second
    # key with the same id would create them again, and its deploy would always fail.
    first_key: dict[str, str] = {}
    for key, account in topology.accounts.items():
        if account.id in first_key:
            yield _at(
                locations,
                ("accounts", key, "id"),
                f"account id {account.id} of '{key}' is already used by '{first_key[account.id]}'",
                "an AWS account may appear under one key only; give each key its own account",
            )
        else:
            first_key[account.id] = key


def _fargate_memory(cpu: int) -> list[int]:
    """Memory sizes (MiB) Fargate accepts with `cpu` units (AWS's task size table)."""
    if cpu == 256:
        return [512, 1024, 2048]
    low, high = FARGATE_MEMORY_RANGES[cpu]
    return list(range(low, high + 1, 1024))


def _choices(values: list[int]) -> str:
    if len(values) <= 8:
        return ", ".join(map(str, values[:-1])) + f" or {values[-1]}"
    return f"{values[0]}, {values[1]}, … {values[-1]} (every 1024 from {values[0]})"


def fargate_sizes_are_valid(topology: Topology, locations: Locations) -> Iterator[Problem]:
    for name, service in topology.services.items():
        valid = _fargate_memory(service.cpu)
        if service.memory in valid:
            continue
        path: PathKey = ("services", name, "memory")
        written = path in locations.values
        yield _at(
            locations,
            path if written else ("services", name, "cpu"),
            f"service '{name}' has memory {service.memory}{'' if written else ' (the default)'}, "
            f"which Fargate does not offer with cpu {service.cpu}",
            f"with cpu {service.cpu}, memory is {_choices(valid)}",
        )


def mesh_id_is_well_formed(topology: Topology, locations: Locations) -> Iterator[Problem]:
    if topology.mesh_id is not None and not re.fullmatch(MESH_ID_PATTERN, topology.mesh_id):
        yield _at(
            locations,
            ("mesh_id",),
            f"invalid mesh_id {topology.mesh_id!r}: a mesh id is 8-32 lower-case hex digits "
            "or a UUID",
            'e.g. mesh_id: "3f9c2a7be41d05c8" (`meshlink init` writes a fresh one); '
            "keep it when you share the file, change it for an unrelated project",
        )


def aws_services_name_their_image(topology: Topology, locations: Locations) -> Iterator[Problem]:
    # The default image names the bundled service, which the local cloud runs as a
    # process; no registry publishes it, so on AWS every task would fail to pull it.
    if topology.target != "aws":
        return
    for name, service in topology.services.items():
        path: PathKey = ("services", name, "image")
        if path in locations.values and service.image != DEFAULT_IMAGE:
            continue
        where = _at if path in locations.values else _at_key
        yield where(
            locations,
            path if path in locations.values else ("services", name),
            f"service '{name}' has no image of its own; target aws needs one "
            f"({DEFAULT_IMAGE} is not published)",
            "build and push the bundled service with `make image REGISTRY=<registry>`, then "
            "set image: <registry>/meshlink-service:<tag> (or your own service's image)",
        )


# An image pinned by digest: whatever the tag later points at, the probe runs this one.
PINNED_IMAGE = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")


def aws_probe_image_is_pinned(topology: Topology, locations: Locations) -> Iterator[Problem]:
    # verify's probe task runs in every consumer's network of a real account: it must be
    # an image there is (the bundled one is not published) and the one meant (a digest).
    if topology.target != "aws" or PINNED_IMAGE.fullmatch(topology.probe_image):
        return
    path: PathKey = ("probe_image",)
    located = path in locations.values
    default = topology.probe_image == DEFAULT_PROBE_IMAGE
    why = (
        "is the bundled service's image, which is not published: target aws needs one "
        "pushed and pinned by digest"
        if default
        else "is not pinned by digest (@sha256:<64 hex digits>): target aws runs exactly "
        "the image meant"
    )
    yield _at(
        locations,
        path if located else ("target",),
        f"probe_image {topology.probe_image!r} {why}",
        "push the bundled service with `make image REGISTRY=<registry>` (it prints the "
        "digest) and set probe_image: <registry>/meshlink-service@sha256:<digest> at the "
        'top of the topology ("probeImage" in the blog\'s JSON config)',
    )


def log_key_is_in_the_region(topology: Topology, locations: Locations) -> Iterator[Problem]:
    # "The KMS key must be in the same Region as the log group"
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
    key = topology.logs.kms_key_arn
    if key is not None and key.split(":")[3] != topology.region:
        yield _at(
            locations,
            ("logs", "kms_key_arn"),
            f"KMS key of the log groups is in {key.split(':')[3]}, the mesh in {topology.region}",
            f"use a key of {topology.region} (CloudWatch Logs uses keys of its own region only)",
        )


RULES: tuple[Rule, ...] = (
    mesh_id_is_well_formed,
    principals_belong_to_their_account,
    roles_belong_to_their_account,
    account_ids_are_unique,
    fargate_sizes_are_valid,
    service_accounts_exist,
    consumes_are_valid,
    names_are_unique,
    cidrs_are_valid,
    ports_are_distinct,
    names_fit_aws_limits,
    az_count_fits_region,
    aws_accounts_are_reachable,
    aws_services_name_their_image,
    aws_probe_image_is_pinned,
    *NETWORK_RULES,
    log_key_is_in_the_region,
    *OPERATIONS_RULES,
)


def check(topology: Topology, locations: Locations) -> list[Problem]:
    """Every semantic problem in `topology`, located."""
    return [problem for rule in RULES for problem in rule(topology, locations)]
