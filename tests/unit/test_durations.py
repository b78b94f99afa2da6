"""The AWS duration table: every entry sourced, the issue's figures, CloudFormation lookup."""

from __future__ import annotations

import pytest

from meshlink import durations


def test_every_entry_has_its_figure_and_a_public_source() -> None:
    for key, entry in durations.DURATIONS.items():
        assert entry.key == key
        assert entry.seconds > 0
        assert entry.figure
        assert entry.source.startswith("https://")


@pytest.mark.parametrize(
    ("key", "low", "high"),
    [
        ("nat_gateway.create", 90, 120),
        ("nat_gateway.delete", 45, 75),
        ("nlb.create", 120, 180),
        ("nlb_target.healthy", 60, 120),
        ("interface_endpoint.create", 100, 140),
        ("interface_endpoint.traffic_after_available", 20, 30),
        ("fargate_task.running", 30, 60),
        ("endpoint_service.create", 1, 5),
        ("vpc.create", 1, 5),
    ],
)
def test_issue_figures(key: str, low: float, high: float) -> None:
    assert low <= durations.seconds(key) <= high


def test_scale_multiplies() -> None:
    assert durations.seconds("nlb.create", 0.02) == pytest.approx(3.0)


def test_resource_duration_by_type_and_properties() -> None:
    assert durations.resource_duration("AWS::EC2::NatGateway", "create") == 100.0
    assert durations.resource_duration("AWS::EC2::NatGateway", "delete") == 60.0
    assert durations.resource_duration("AWS::EC2::VPCEndpoint", "create") == 120.0
    gateway = durations.resource_duration(
        "AWS::EC2::VPCEndpoint", "create", {"VpcEndpointType": "Gateway"}
    )
    assert gateway == 5.0
    alone = durations.resource_duration("AWS::ECS::Service", "create", {})
    behind = durations.resource_duration("AWS::ECS::Service", "create", {"LoadBalancers": [{}]})
    assert alone == 43.0
    assert behind == 133.0
    assert 1 <= durations.resource_duration("AWS::ECS::Cluster", "create") <= 5
    assert 1 <= durations.resource_duration("AWS::EC2::VPC", "update") <= 5
