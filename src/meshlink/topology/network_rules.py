"""Rules for a network without NAT gateways: what Fargate can pull there (target aws).

Without NAT (or another route out), a Fargate task reaches only what the VPC endpoints
reach: this region's private ECR, through ``ecr.api``, ``ecr.dkr`` and the ``s3``
gateway (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
An image on ghcr.io, Docker Hub or public.ecr.aws cannot be pulled. The local cloud
runs the bundled service whatever the image says, so only `validate` can tell.
"""

from __future__ import annotations

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


NETWORK_RULES = (natless_images_come_from_ecr,)
