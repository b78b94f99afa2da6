from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from meshlink.errors import TopologyError
from meshlink.topology.dump import to_yaml
from meshlink.topology.loader import load_topology, load_topology_text
from tests.helpers import EXAMPLES


def test_blog_config_becomes_a_bidirectional_mesh() -> None:
    topology = load_topology(EXAMPLES / "blog-config.json")
    assert topology.name == "blog-config"
    assert set(topology.accounts) == {"users", "notify"}
    assert topology.services["user-service"].consumes == ["notification-service"]
    assert topology.services["notification-service"].account == "notify"
    assert topology.services["user-service"].image == "your-registry/user-service:latest"
    assert topology.external == {}


def test_consumer_entry_outside_the_file_becomes_external() -> None:
    pinned = "r/probe@sha256:" + "0" * 64
    text = """{"target": "aws", "probeImage": "PINNED",
      "microservices": [{"name": "api", "port": 8080, "image": "r/api:1",
        "consumerEndpointServices": [{"serviceName": "billing",
          "vpcEndpointServiceId": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc", "port": 443}]}],
      "networking": {"vpcCidr": "10.9.0.0/16"},
      "aws": {"region": "eu-west-1", "accounts": {"main": "123456789012"}}}"""
    topology = load_topology_text(text.replace("PINNED", pinned), "seed.json")
    assert topology.probe_image == pinned
    assert topology.services["api"].consumes == ["billing"]
    assert topology.external["billing"].service_name.endswith("vpce-svc-0abc")
    assert topology.external["billing"].port == 443
    assert topology.accounts["main"].vpc_cidr == "10.9.0.0/16"
    assert topology.region == "eu-west-1"


def test_converted_yaml_loads_back_to_the_same_topology() -> None:
    topology = load_topology(EXAMPLES / "blog-config.json")
    again = load_topology_text(to_yaml(topology), "converted.yaml")
    assert again == topology


BLOG = json.loads((EXAMPLES / "blog-config.json").read_text())


def seed_problems(change: Callable[[dict[str, Any]], None]) -> list[tuple[int, int, str]]:
    data = copy.deepcopy(BLOG)
    change(data)
    with pytest.raises(TopologyError) as caught:
        load_topology_text(json.dumps(data, indent=2), "blog.json")
    return [(p.line, p.col, p.message) for p in caught.value.problems]


def _rename_second(data: dict[str, Any]) -> None:
    data["microservices"].append({**data["microservices"][0], "name": "User Service"})


def test_microservices_whose_names_slug_alike_are_reported_not_collapsed() -> None:
    assert seed_problems(_rename_second) == [
        (36, 15, "microservices 'User Service' and 'user-service' both become 'user-service'")
    ]


def test_accounts_whose_names_slug_alike_are_reported_not_collapsed() -> None:
    assert seed_problems(lambda d: d["aws"]["accounts"].update({"USERS": "333333333333"})) == [
        (52, 7, "accounts 'USERS' and 'users' both become 'users'")
    ]


def _set(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, list):
            parent.append(value)
        else:
            parent[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(("aws",), ["us-east-1"]), "aws must be an object, not a list"),
        (_set(("aws",), "x"), "aws must be an object, not a string"),
        (_set(("aws", "accounts"), [1]), "aws.accounts must be an object, not a list"),
        (
            _set(("aws", "accounts", "users"), [1]),
            "aws.accounts.users must be an account id or an object, not a list",
        ),
        (
            _set(("aws", "accounts", "users"), {"id": True}),
            "aws.accounts.users.id must be a string of 12 digits",
        ),
        (_set(("aws", "region"), 5), "aws.region must be a string, not a number"),
        (_set(("networking",), "x"), "networking must be an object, not a string"),
        (_set(("networking", "vpcCidr"), 5), "networking.vpcCidr must be a string, not a number"),
        (_set(("microservices",), {"a": 1}), "microservices must be a list, not an object"),
        (_set(("microservices",), "abc"), "microservices must be a list, not a string"),
        (_set(("microservices", 2), 7), "microservices[2] must be an object, not a number"),
        (
            _set(("microservices", 0, "name"), ["a"]),
            "microservices[0].name must be a string, not a list",
        ),
        (
            _set(("microservices", 0, "account"), 5),
            "microservices[0].account must be a string, not a number",
        ),
        (
            _set(("microservices", 0, "consumerEndpointServices"), {"a": 1}),
            "microservices[0].consumerEndpointServices must be a list, not an object",
        ),
        (
            _set(("microservices", 0, "consumerEndpointServices", 1), "billing"),
            "microservices[0].consumerEndpointServices[1] must be an object, not a string",
        ),
        (
            _set(("microservices", 0, "consumerEndpointServices", 1), {"port": 1}),
            "microservices[0].consumerEndpointServices[1] has no serviceName",
        ),
        (
            _set(("microservices", 0, "consumerEndpointServices", 0, "serviceName"), 3),
            "microservices[0].consumerEndpointServices[0].serviceName must be a string, "
            "not a number",
        ),
        (_set(("name",), {"a": 1}), "name must be a string, not an object"),
    ],
)
def test_a_malformed_seed_field_is_one_located_problem(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    (problem,) = seed_problems(change)
    assert problem[2] == message
    assert problem[:2] != (1, 1)


def test_an_external_service_described_two_ways_is_reported() -> None:
    def change(data: dict[str, Any]) -> None:
        for index, micro in enumerate(data["microservices"]):
            micro["consumerEndpointServices"].append(
                {
                    "serviceName": "billing",
                    "vpcEndpointServiceId": "com.amazonaws.x",
                    "port": 443 + index,
                }
            )

    assert [p[2] for p in seed_problems(change)] == [
        "external service 'billing' is described differently by two microservices"
    ]
