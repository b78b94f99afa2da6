"""target: aws needs an image per service: the default one is never published."""

from __future__ import annotations

import pytest

from meshlink.errors import TopologyError
from meshlink.topology.loader import load_topology_text
from meshlink.topology.model import DEFAULT_IMAGE
from tests.helpers import VALID_YAML

PINNED = "registry.example/meshlink-service@sha256:" + "a" * 64
AWS = (
    VALID_YAML.replace("name: shop", f"name: shop\ntarget: aws\nprobe_image: {PINNED}")
    .replace("vpc_cidr: 10.1.0.0/16 }", "vpc_cidr: 10.1.0.0/16, role: Deploy }")
    .replace("vpc_cidr: 10.2.0.0/16 }", "vpc_cidr: 10.2.0.0/16, role: Deploy }")
)


def _problems(text: str) -> list[tuple[str, int, int, str | None]]:
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text)
    return [(p.message, p.line, p.col, p.hint) for p in caught.value.problems]


def test_aws_services_without_an_image_are_located_at_the_service() -> None:
    problems = _problems(AWS)
    assert [(line, col) for _, line, col, _ in problems] == [(9, 3), (13, 3)]
    message, _, _, hint = problems[0]
    assert message == (
        "service 'user-service' has no image of its own; target aws needs one "
        f"({DEFAULT_IMAGE} is not published)"
    )
    assert hint is not None and "make image REGISTRY=<registry>" in hint


def test_the_default_image_written_out_is_located_at_its_value() -> None:
    text = AWS.replace("    port: 8080\n", f"    port: 8080\n    image: {DEFAULT_IMAGE}\n")
    text = text.replace("    port: 8081\n", "    port: 8081\n    image: registry.example/svc:1\n")
    ((message, line, col, _),) = _problems(text)
    assert (line, col) == (12, 12)
    assert "'user-service'" in message


def test_every_service_with_its_own_image_is_valid_on_aws() -> None:
    text = AWS.replace("    port: 8080\n", "    port: 8080\n    image: registry.example/a:1\n")
    text = text.replace("    port: 8081\n", "    port: 8081\n    image: registry.example/b:1\n")
    assert load_topology_text(text).services["user-service"].image == "registry.example/a:1"


def test_the_local_target_keeps_the_bundled_default() -> None:
    assert load_topology_text(VALID_YAML).services["user-service"].image == DEFAULT_IMAGE


def test_on_aws_the_probe_image_is_pinned_by_digest() -> None:
    with_images = AWS.replace(
        "    port: 8080\n", "    port: 8080\n    image: registry.example/svc:1\n"
    ).replace("    port: 8081\n", "    port: 8081\n    image: registry.example/svc:1\n")
    assert load_topology_text(with_images).probe_image == PINNED
    tagged = with_images.replace(PINNED, "registry.example/meshlink-service:0.1.0")
    ((message, line, col, hint),) = _problems(tagged)
    assert (line, col) == (3, 14)  # the probe_image value
    assert message == (
        "probe_image 'registry.example/meshlink-service:0.1.0' is not pinned by digest "
        "(@sha256:<64 hex digits>): target aws runs exactly the image meant"
    )
    assert hint and "make image REGISTRY=<registry>" in hint
    # Not given at all: the bundled image, which no registry has; located at the target.
    default = with_images.replace(f"probe_image: {PINNED}\n", "")
    ((message, line, col, _),) = _problems(default)
    assert message.startswith(f"probe_image '{DEFAULT_IMAGE}' is the bundled service's image")
    assert (line, col) == (2, 9)
