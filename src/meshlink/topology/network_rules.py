"""Rules of the network: a shared network names its account, VPC CIDRs are where the VPCs
are, and, without NAT gateways, what Fargate can pull (target aws).

Without NAT (or another route out), a Fargate task reaches only what the VPC endpoints
reach: this region's private ECR, through ``ecr.api``, ``ecr.dkr`` and the ``s3``
gateway (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
An image on ghcr.io, Docker Hub or public.ecr.aws cannot be pulled. The local cloud
runs the bundled service whatever the image says, so only `validate` can tell.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from meshlink.errors import Problem
from meshlink.topology.locations import Locations, PathKey
from meshlink.topology.model import DEFAULT_IMAGE, Topology


def in_regional_ecr(image: str, region: str) -> bool:
    """Whether `image` is in a private ECR registry of `region`."""
    pattern = rf"[0-9]{{12}}\.dkr\.ecr(-fips)?\.{re.escape(region)}\.amazonaws\.com(\.cn)?/.+"
    return re.fullmatch(pattern, image) is not None


def _problem(locations: Locations, path: PathKey, message: str, hint: str) -> Problem:
    if path not in locations.values:
        path = ("network", "nat_gateways")
    line, col = locations.of_value(path)
    return Problem(message, line, col, hint)


def natless_images_come_from_ecr(topology: Topology, locations: Locations) -> Iterator[Problem]:
    if topology.target != "aws" or topology.network.nat_gateways != "none":
        return
    region = topology.region
    hint = (
        f"push it to ECR in {region} (`make image REGISTRY=<account id>.dkr.ecr.{region}"
        ".amazonaws.com`) and name that image, or give the VPCs a NAT gateway "
        "(network.nat_gateways: single)"
    )
    for name, service in topology.services.items():
        if service.image == DEFAULT_IMAGE or in_regional_ecr(service.image, region):
            continue  # the default image is reported by aws_services_name_their_image
        yield _problem(
            locations,
            ("services", name, "image"),
            f"service '{name}' runs {service.image}, which Fargate cannot pull without a NAT "
            f"gateway: only {region}'s ECR is reachable through the VPC endpoints",
            hint,
        )
    if not in_regional_ecr(topology.probe_image, region):
        yield _problem(
            locations,
            ("probe_image",),
            f"verify's probe image {topology.probe_image} cannot be pulled without a NAT "
            f"gateway: only {region}'s ECR is reachable through the VPC endpoints",
            hint.replace("name that image", "set probe_image to it"),
        )


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean '{close[0]}'?" if close else f"known accounts: {', '.join(known)}"


def shared_network_names_its_account(topology: Topology, locations: Locations) -> Iterator[Problem]:
    """network.account names the networking account exactly when network.mode is shared."""
    network = topology.network
    known = list(topology.accounts)
    if network.mode == "per_account":
        if network.account is not None:
            line, col = locations.of_value(("network", "account"))
            yield Problem(
                "network.account names a networking account, but network.mode is per_account "
                "(a VPC in every account)",
                line,
                col,
                "set network.mode: shared to share that account's VPC, or remove network.account",
            )
        return
    if network.account is None:
        line, col = locations.of_value(("network", "mode"))
        yield Problem(
            "network.mode shared needs network.account: the account that owns the VPC",
            line,
            col,
            f"add account: <key> under network (one of {', '.join(known)})",
        )
    elif network.account not in topology.accounts:
        line, col = locations.of_value(("network", "account"))
        yield Problem(
            f"network.account names unknown account '{network.account}'",
            line,
            col,
            _suggest(network.account, known),
        )


def vpc_cidrs_where_vpcs_are(topology: Topology, locations: Locations) -> Iterator[Problem]:
    """Every account that owns a VPC has a vpc_cidr; with a shared network, no other has one."""
    shared = topology.network.mode == "shared"
    if shared and topology.network.account not in topology.accounts:
        return  # reported by shared_network_names_its_account
    for key, account in topology.accounts.items():
        owns = topology.network_account(key) == key
        if owns and account.vpc_cidr is None:
            line, col = locations.of_key(("accounts", key))
            yield Problem(
                f"account '{key}' has no vpc_cidr"
                + (", and it is the networking account" if shared else ""),
                line,
                col,
                "add vpc_cidr: <IPv4 network>, e.g. 10.1.0.0/16",
            )
        elif not owns and account.vpc_cidr is not None:
            line, col = locations.of_value(("accounts", key, "vpc_cidr"))
            yield Problem(
                f"account '{key}' has a vpc_cidr, but it owns no VPC: with network.mode shared "
                f"it runs in the subnets '{topology.network.account}' shares with it",
                line,
                col,
                f"remove vpc_cidr from '{key}'; the VPC's CIDR is set on "
                f"'{topology.network.account}'",
            )


NETWORK_RULES = (
    shared_network_names_its_account,
    vpc_cidrs_where_vpcs_are,
    natless_images_come_from_ecr,
)
