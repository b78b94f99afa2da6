from __future__ import annotations

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
    text = """{"microservices": [{"name": "api", "port": 8080,
        "consumerEndpointServices": [{"serviceName": "billing",
          "vpcEndpointServiceId": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc", "port": 443}]}],
      "networking": {"vpcCidr": "10.9.0.0/16"},
      "aws": {"region": "eu-west-1", "accounts": {"main": "123456789012"}}}"""
    topology = load_topology_text(text, "seed.json")
    assert topology.services["api"].consumes == ["billing"]
    assert topology.external["billing"].service_name.endswith("vpce-svc-0abc")
    assert topology.external["billing"].port == 443
    assert topology.accounts["main"].vpc_cidr == "10.9.0.0/16"
    assert topology.region == "eu-west-1"


def test_converted_yaml_loads_back_to_the_same_topology() -> None:
    topology = load_topology(EXAMPLES / "blog-config.json")
    again = load_topology_text(to_yaml(topology), "converted.yaml")
    assert again == topology
