from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from meshlink.errors import DeployError
from meshlink.graph.parameters import fill_parameters, shared_zone_subnets, upstream_nodes

TEMPLATE = {
    "Metadata": {
        "meshlink": {
            "node": "endpoints:a",
            "parameters": {
                "NetworkUsersVpcId": {"node": "network:users", "output": "vpc_id"},
                "NetworkUsersPrivateSubnetIds": {
                    "node": "network:users",
                    "output": "private_subnet_ids",
                },
                "EndpointSubnetsB": {"resolver": "pick", "consumer": "a", "provider": "b"},
            },
        }
    }
}
OUTPUTS = {"network:users": {"vpc_id": "vpc-1", "private_subnet_ids": ["subnet-1", "subnet-2"]}}


def test_parameters_come_from_upstream_outputs_and_resolvers() -> None:
    def pick(source: Mapping[str, str], outputs_of: Any) -> str:
        return f"{source['consumer']}->{source['provider']}"

    values = fill_parameters(TEMPLATE, OUTPUTS.__getitem__, {"pick": pick})
    assert values == {
        "NetworkUsersVpcId": "vpc-1",
        "NetworkUsersPrivateSubnetIds": "subnet-1,subnet-2",
        "EndpointSubnetsB": "a->b",
    }
    assert upstream_nodes(TEMPLATE) == {"network:users"}


def test_missing_output_names_the_node_to_redeploy() -> None:
    with pytest.raises(DeployError) as caught:
        fill_parameters(TEMPLATE, lambda node: {}, {"pick": lambda s, o: ""})
    assert "vpc_id of network:users" in caught.value.message


def test_shared_zone_subnets_compares_zone_ids_not_names() -> None:
    consumer = {
        "private_subnet_ids": ["subnet-a", "subnet-b"],
        "azs": ["us-east-1a", "us-east-1b"],
        "az_ids": ["use1-az4", "use1-az6"],
    }
    assert shared_zone_subnets(consumer, {"use1-az6", "use1-az1"}, label="x") == ["subnet-b"]
    with pytest.raises(DeployError) as caught:
        shared_zone_subnets(consumer, {"use1-az2"}, label="a -> b")
    assert "shares no availability zone" in caught.value.message
