"""The blog's JSON config as printed: what it leaves out is inferred, and said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshlink.errors import TopologyError
from meshlink.topology.dump import to_yaml
from meshlink.topology.loader import load_topology_text, load_topology_with_notes
from meshlink.topology.seed_accounts import local_account_id, split_cidr
from tests.helpers import EXAMPLES

BLOG_POST = EXAMPLES / "blog-post.json"
BLOG_SERVICE_ID = "com.amazonaws.vpce.us-east-1.vpce-svc-12345678"


def _write(tmp_path: Path, data: dict[str, Any], name: str = "seed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2))
    return path


def _blog(**top: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BLOG_POST.read_text())
    data.update(top)
    return data


def test_the_blog_post_json_as_printed_is_a_local_mesh_with_one_account_per_service() -> None:
    topology, notes = load_topology_with_notes(BLOG_POST)
    assert topology.name == "blog-post"
    assert topology.target == "local"
    assert topology.region == "us-east-1"
    assert {name: svc.account for name, svc in topology.services.items()} == {
        "user-service": "user-service",
        "notification-service": "notification-service",
    }
    assert topology.services["user-service"].consumes == ["notification-service"]
    # The consumed service is not in the file: on the local cloud a stand-in plays it,
    # on its port, since endpoint service vpce-svc-12345678 cannot exist there.
    assert topology.services["notification-service"].port == 8081
    assert topology.external == {}
    assert {k: a.vpc_cidr for k, a in topology.accounts.items()} == {
        "user-service": "10.0.0.0/17",
        "notification-service": "10.0.128.0/17",
    }
    ids = {a.id for a in topology.accounts.values()}
    assert len(ids) == 2
    said = "\n".join(note.message for note in notes)
    for fact in (
        "mesh name 'blog-post' comes from the file name",
        "target local",
        "region us-east-1",
        f"'user-service' (id {topology.accounts['user-service'].id} on the local cloud)",
        "runs a stand-in for it",
        BLOG_SERVICE_ID,
        "user-service 10.0.0.0/17, notification-service 10.0.128.0/17",
        "networking.publicSubnetCidrs is not used",
        "networking.privateSubnetCidrs is not used",
    ):
        assert fact in said, fact
    # Notes point at the lines they are about: the stand-in at its consumer entry.
    lines = BLOG_POST.read_text().splitlines()
    stand_in = next(n for n in notes if "stand-in" in n.message)
    assert '"serviceName": "notification-service"' in lines[stand_in.line]


def test_local_account_ids_are_deterministic_and_keyed_by_name_not_position() -> None:
    first = load_topology_text(BLOG_POST.read_text(), "blog-post.json")
    again = load_topology_text(BLOG_POST.read_text(), "blog-post.json")
    assert first.accounts == again.accounts
    assert local_account_id("user-service", set()) == first.accounts["user-service"].id
    taken = {local_account_id("a", set())}
    assert local_account_id("a", taken) not in taken


def test_on_aws_every_account_id_to_fill_in_is_named_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _blog(target="aws"))
    with pytest.raises(TopologyError) as caught:
        load_topology_with_notes(path)
    problem, probe = caught.value.problems
    assert "'user-service', which has no id" in problem.message
    assert problem.line == 3 and problem.hint and '"account": "<12-digit id>"' in problem.hint
    # ...and verify's probe image, which the file may give as probeImage, pinned by digest.
    assert "target aws needs one pushed and pinned by digest" in probe.message
    assert probe.hint and '"probeImage"' in probe.hint
    assert '"target": "aws"' in path.read_text().splitlines()[probe.line - 1]


def test_on_aws_the_unknown_service_is_the_external_endpoint_service(tmp_path: Path) -> None:
    data = _blog(target="aws", probeImage="registry.example/probe@sha256:" + "0" * 64)
    data["microservices"][0]["account"] = "123456789012"
    topology, notes = load_topology_with_notes(_write(tmp_path, data))
    assert topology.probe_image == data["probeImage"]
    assert topology.external["notification-service"].service_name == BLOG_SERVICE_ID
    assert topology.external["notification-service"].port == 8081
    assert list(topology.services) == ["user-service"]
    assert topology.accounts["user-service"].id == "123456789012"
    assert topology.accounts["user-service"].vpc_cidr == "10.0.0.0/16"
    assert any("it is the external endpoint service" in n.message for n in notes)


def test_accounts_given_as_a_networking_id_and_a_list_assigned_in_order(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "blog-config.json").read_text())
    for micro in data["microservices"]:
        del micro["account"]
    data["aws"]["accounts"] = {
        "networking": "999999999999",
        "microservices": ["111111111111", "222222222222"],
    }
    path = _write(tmp_path, data)
    topology, notes = load_topology_with_notes(path)
    assert {n: topology.account_of(n).id for n in topology.services} == {
        "user-service": "111111111111",
        "notification-service": "222222222222",
    }
    # The blog's "Networking Account": it owns the one VPC (networking.vpcCidr, whole) and
    # shares its subnets with the microservice accounts, which own none.
    assert (topology.network.mode, topology.network.account) == ("shared", "networking")
    assert {k: (a.id, a.vpc_cidr) for k, a in topology.accounts.items()} == {
        "networking": ("999999999999", "10.0.0.0/16"),
        "user-service": ("111111111111", None),
        "notification-service": ("222222222222", None),
    }
    (said,) = [n for n in notes if "aws.accounts.networking" in n.message]
    assert "(999999999999) is the networking account 'networking'" in said.message
    assert "network.mode shared" in said.message
    assert '"networking": "999999999999"' in path.read_text().splitlines()[said.line - 1]
    assert not [n for n in notes if "is split into one block per account" in n.message]
    converted = to_yaml(topology)
    assert "network:\n  mode: shared\n  account: networking\n" in converted
    assert load_topology_text(converted, "converted.yaml") == topology


def test_a_networking_account_id_that_is_no_id_is_a_located_problem(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "blog-config.json").read_text())
    for micro in data["microservices"]:
        del micro["account"]
    data["aws"]["accounts"] = {"networking": "net", "microservices": ["1" * 12, "2" * 12]}
    path = _write(tmp_path, data)
    with pytest.raises(TopologyError) as caught:
        load_topology_with_notes(path)
    (problem,) = caught.value.problems
    assert problem.message == "aws.accounts.networking must be a string of 12 digits"
    assert '"networking": "net"' in path.read_text().splitlines()[problem.line - 1]
    assert problem.hint and "owns the VPC" in problem.hint


def test_too_few_listed_account_ids_is_a_located_problem(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "blog-config.json").read_text())
    for micro in data["microservices"]:
        del micro["account"]
    data["aws"]["accounts"] = {"microservices": ["111111111111"]}
    with pytest.raises(TopologyError) as caught:
        load_topology_with_notes(_write(tmp_path, data))
    (problem,) = caught.value.problems
    assert problem.message.startswith("aws.accounts.microservices has 1 account ids")
    assert "notification-service" in problem.message


def test_an_account_field_on_a_microservice_may_be_the_id_itself(tmp_path: Path) -> None:
    data = _blog()
    data["microservices"][0]["account"] = "123456789012"
    topology, notes = load_topology_with_notes(_write(tmp_path, data))
    assert topology.accounts["user-service"].id == "123456789012"
    assert any("account 123456789012 is named 'user-service'" in n.message for n in notes)


def test_an_account_field_naming_an_unlisted_account_infers_it(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "blog-config.json").read_text())
    del data["aws"]
    topology, notes = load_topology_with_notes(_write(tmp_path, data))
    assert set(topology.accounts) == {"users", "notify"}
    assert any("microservice 'user-service' names account 'users'" in n.message for n in notes)


def test_a_vpc_cidr_too_small_to_split_is_a_problem_with_a_hint(tmp_path: Path) -> None:
    data = _blog()
    data["networking"]["vpcCidr"] = "10.0.0.0/25"
    with pytest.raises(TopologyError) as caught:
        load_topology_with_notes(_write(tmp_path, data))
    (problem,) = caught.value.problems
    assert "too small to give 2 accounts a VPC each" in problem.message
    assert problem.line == 17


def test_split_cidr_gives_equal_blocks_that_never_overlap() -> None:
    assert split_cidr("10.0.0.0/16", 3) == ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]
    assert split_cidr("10.0.0.0/16", 1) == ["10.0.0.0/16"]
    assert split_cidr("10.0.0.0/25", 2) is None


def test_converted_yaml_carries_the_inferences_and_loads_back_the_same(tmp_path: Path) -> None:
    topology, notes = load_topology_with_notes(BLOG_POST)
    from meshlink.cli.convert import _comments

    text = to_yaml(topology, _comments(BLOG_POST, notes))
    assert "# Converted from blog-post.json. What it leaves out, meshlink inferred:" in text
    assert "runs a stand-in" in text
    assert load_topology_text(text, "meshlink.yaml") == topology
