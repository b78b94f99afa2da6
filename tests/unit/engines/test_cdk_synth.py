"""In-process synthesis and its cache: a hit reads stored templates without starting Node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshlink.engines.cdk import synth as synth_module
from meshlink.engines.cdk.network import network_cache_key
from meshlink.engines.cdk.synth import INDEX_FILE, load_cached, synth
from meshlink.errors import DeployError
from meshlink.topology.model import Topology


def topic_stacks(*names: str, stack_name: str | None = None) -> Any:
    """A builder adding one tiny stack per name (each an SNS topic and an output)."""

    def build(app: Any) -> None:
        import aws_cdk as cdk

        for name in names:
            stack = cdk.Stack(app, name, stack_name=stack_name or f"meshlink-t-{name.lower()}",
                              synthesizer=cdk.BootstraplessSynthesizer())  # fmt: skip
            topic = cdk.CfnResource(stack, "Topic", type="AWS::SNS::Topic")
            cdk.CfnOutput(stack, "TopicArn", value=topic.ref)

    return build


def test_synth_then_cache_hit_without_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    inner = topic_stacks("One", "Two")

    def counting(app: Any) -> None:
        calls.append(1)
        inner(app)

    first = synth(counting, key="abc", cache_dir=tmp_path)
    assert not first.cached and calls == [1]
    assert sorted(first.templates) == ["meshlink-t-one", "meshlink-t-two"]
    template = first.template("meshlink-t-one")
    assert template["Resources"]["Topic"]["Type"] == "AWS::SNS::Topic"
    assert "TopicArn" in template["Outputs"]
    assert (first.assembly_dir / "manifest.json").is_file()
    assert first.assembly_dir == tmp_path / "abc"

    def no_node() -> Any:
        raise AssertionError("a cache hit must not load aws_cdk")

    monkeypatch.setattr(synth_module, "import_cdk", no_node)
    second = synth(counting, key="abc", cache_dir=tmp_path)
    assert second.cached and calls == [1]
    assert second.templates == first.templates
    with pytest.raises(AssertionError, match="must not load"):
        synth(counting, key="other", cache_dir=tmp_path)  # another key is a miss
    assert [p.name for p in tmp_path.iterdir()] == ["abc"]  # the failed attempt left nothing


def test_damaged_cache_entry_is_replaced(tmp_path: Path) -> None:
    build = topic_stacks("One")
    first = synth(build, key="k", cache_dir=tmp_path)
    (
        first.assembly_dir
        / json.loads((first.assembly_dir / INDEX_FILE).read_text())["stacks"]["meshlink-t-one"]
    ).unlink()
    assert load_cached(first.assembly_dir) is None
    again = synth(build, key="k", cache_dir=tmp_path)
    assert not again.cached and again.templates == first.templates
    assert load_cached(tmp_path / "k") is not None


def test_unknown_stack_and_bad_keys(tmp_path: Path) -> None:
    result = synth(topic_stacks("One"), key="k", cache_dir=tmp_path)
    with pytest.raises(DeployError, match="meshlink-t-nope"):
        result.template("meshlink-t-nope")
    for key in ("", "../x", ".hidden", "a/b"):
        with pytest.raises(ValueError):
            synth(topic_stacks("One"), key=key, cache_dir=tmp_path)


def test_two_stacks_with_one_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="both named meshlink-t-same"):
        synth(topic_stacks("A", "B", stack_name="meshlink-t-same"), key="dup", cache_dir=tmp_path)


def _topology(**changes: Any) -> Topology:
    data: dict[str, Any] = {
        "name": "shop",
        "network": {"nat_gateways": "single"},
        "accounts": {"users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"}},
        "services": {"svc": {"account": "users", "port": 8080}},
    }
    data.update(changes)
    return Topology.model_validate(data)


def test_network_cache_key_follows_only_network_inputs() -> None:
    key = network_cache_key(_topology())
    assert key == network_cache_key(_topology())
    assert key == network_cache_key(_topology(services={"other": {"account": "users", "port": 1}}))
    assert key == network_cache_key(_topology(network={"nat_gateways": "single", "engine": "cdk"}))
    assert key != network_cache_key(_topology(network={"nat_gateways": "per_az"}))
    assert key != network_cache_key(
        _topology(accounts={"users": {"id": "111111111111", "vpc_cidr": "10.9.0.0/16"}})
    )
    assert key != network_cache_key(_topology(region="eu-west-1"))
