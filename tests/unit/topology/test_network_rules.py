"""Without NAT on AWS, images must come from the region's ECR (topology/network_rules.py)."""

from __future__ import annotations

import pytest

from meshlink.errors import TopologyError
from meshlink.topology.loader import load_topology_text
from meshlink.topology.network_rules import in_regional_ecr

ECR = "111111111111.dkr.ecr.us-east-1.amazonaws.com"
TEXT = f"""\
name: shop
region: us-east-1
target: {{target}}
network: {{{{ nat_gateways: {{nat}} }}}}
probe_image: {ECR}/meshlink-service@sha256:{"a" * 64}
accounts:
  a: {{{{ id: "111111111111", vpc_cidr: 10.1.0.0/16 }}}}
services:
  web: {{{{ account: a, port: 8080, image: "{{image}}" }}}}
"""


def text(image: str, nat: str = "none", target: str = "aws") -> str:
    return TEXT.format(target=target, nat=nat, image=image)


def test_an_image_outside_the_regions_ecr_is_located_with_a_hint() -> None:
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text("ghcr.io/acme/web:1"))
    (problem,) = caught.value.problems
    assert problem.message == (
        "service 'web' runs ghcr.io/acme/web:1, which Fargate cannot pull without a NAT "
        "gateway: only us-east-1's ECR is reachable through the VPC endpoints"
    )
    assert (problem.line, problem.col) == (9, 41)
    assert problem.hint is not None and "make image REGISTRY=" in problem.hint


def test_ecr_images_nat_or_the_local_cloud_are_fine() -> None:
    assert load_topology_text(text(f"{ECR}/web:1")).services["web"].image == f"{ECR}/web:1"
    assert load_topology_text(text("ghcr.io/acme/web:1", nat="single"))
    assert load_topology_text(text("ghcr.io/acme/web:1", target="local"))


def test_the_registry_must_be_in_the_meshs_region() -> None:
    assert in_regional_ecr(f"{ECR}/web:1", "us-east-1")
    assert not in_regional_ecr(f"{ECR}/web:1", "eu-west-1")
    assert not in_regional_ecr("public.ecr.aws/acme/web:1", "us-east-1")
    assert not in_regional_ecr(f"{ECR}/", "us-east-1")
