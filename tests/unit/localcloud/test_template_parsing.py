"""Template bodies: JSON read as JSON (fast), YAML still read by moto's YAML loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meshlink.localcloud.patches import changesets

FIXTURE = Path(__file__).parent / "fixtures" / "cdk_network.template.json"

YAML_BODY = """
Parameters:
  Port: { Type: Number }
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub "port ${Port}"
      VpcId: !Ref Vpc
"""


def _moto_yaml(body: str) -> Any:
    """How moto 5.2.5 reads a body: PyYAML first (JSON is YAML), with its tag constructor."""
    import yaml
    from moto.cloudformation.utils import yaml_tag_constructor

    yaml.add_multi_constructor("", yaml_tag_constructor)
    return yaml.load(body, Loader=yaml.Loader)


def test_a_synthesized_template_reads_the_same_as_json_and_as_yaml() -> None:
    body = FIXTURE.read_text(encoding="utf-8")
    parsed = changesets.parse_template(body)
    assert parsed is not None and len(parsed["Resources"]) > 10
    assert parsed == _moto_yaml(body)
    assert changesets.parse_template(body.encode("utf-8")) == parsed
    # Compact JSON (as boto3 callers often send it) too.
    compact = json.dumps(parsed, separators=(",", ":"))
    assert changesets.parse_template(compact) == _moto_yaml(compact) == parsed


def test_yaml_and_non_object_bodies_are_left_to_yaml() -> None:
    assert changesets.parse_template(YAML_BODY) is None
    assert changesets.parse_template("[1, 2]") is None
    assert changesets.parse_template("{ not: json }") is None  # YAML flow mapping
    assert changesets.parse_template({"Resources": {}}) is None  # already parsed: moto's path


def test_json_numbers_read_as_cloudformation_reads_them() -> None:
    # PyYAML (YAML 1.1) keeps 1e3 as a string; a JSON template means the number.
    body = '{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"X": 1e3}}}}'
    assert _moto_yaml(body)["Resources"]["Q"]["Properties"]["X"] == "1e3"
    parsed = changesets.parse_template(body)
    assert parsed is not None and parsed["Resources"]["Q"]["Properties"]["X"] == 1000.0


def test_moto_reads_bodies_through_it_once_patched() -> None:
    from moto.cloudformation.models import Stack

    from meshlink.localcloud import patches

    patches.install()
    body = FIXTURE.read_text(encoding="utf-8")
    assert Stack.parse_template(body) == changesets.parse_template(body)
    parsed = Stack.parse_template(YAML_BODY)
    assert parsed["Resources"]["Sg"]["Properties"]["VpcId"] == {"Ref": "Vpc"}
    assert parsed["Resources"]["Sg"]["Properties"]["GroupDescription"] == {
        "Fn::Sub": "port ${Port}"
    }
