"""The local cloud's create-only properties are the CloudFormation resource schemas' own.

``localcloud/patches/create_only.json`` is derived from the resource schemas cfn-lint
ships (each type's ``createOnlyProperties``: a change to one replaces the resource).
Regenerate it with ``.venv/bin/python -m tests.unit.localcloud.test_create_only``.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from meshlink.localcloud.patches import stack_updates

NAMESPACES = (
    "EC2",
    "ECS",
    "ElasticLoadBalancingV2",
    "IAM",
    "KMS",
    "Logs",
    "Route53",
    "S3",
    "SNS",
    "SQS",
    "SSM",
    "ServiceDiscovery",
)
REGION = "us-east-1"


def derived() -> dict[str, Any]:
    """The table, read from cfn-lint's schemas for REGION."""
    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    index = json.loads((schemas / "providers" / f"{REGION}.json").read_text())
    types: dict[str, list[str]] = {}
    for name, digest in sorted(index.items()):
        if name.split("::")[1] not in NAMESPACES:
            continue
        schema = json.loads((schemas / "resources" / f"{digest}.json").read_text())
        paths = [p.removeprefix("/properties/") for p in schema.get("createOnlyProperties", [])]
        if paths:
            types[name] = sorted(paths)
    return {
        "source": f"cfn-lint {metadata.version('cfn-lint')}, resource schemas of {REGION}",
        "types": types,
    }


def test_the_table_is_the_schemas() -> None:
    pytest.importorskip("cfnlint")
    table = json.loads(stack_updates.CREATE_ONLY_FILE.read_text())
    assert table["types"] == derived()["types"], (
        "run `.venv/bin/python -m tests.unit.localcloud.test_create_only`"
    )


def test_a_create_only_property_replaces_and_another_updates_in_place() -> None:
    group = "AWS::ElasticLoadBalancingV2::TargetGroup"
    assert stack_updates.recreation(group, "Port", 80, 81) == "Always"
    assert stack_updates.recreation(group, "HealthCheckPath", "/a", "/b") == "Never"
    # A nested create-only path: only a change below it replaces.
    endpoint = "AWS::EC2::VPCEndpoint"
    before = {"PrivateDnsPreference": "ALL_DOMAINS", "DnsRecordIpType": "ipv4"}
    after_dns = {**before, "PrivateDnsPreference": "VERIFIED_DOMAINS_ONLY"}
    after_ip = {**before, "DnsRecordIpType": "dualstack"}
    assert stack_updates.recreation(endpoint, "DnsOptions", before, after_dns) == "Always"
    assert stack_updates.recreation(endpoint, "DnsOptions", before, after_ip) == "Never"
    # A type with no create-only property, and one the table does not know.
    assert stack_updates.recreation("AWS::IAM::Policy", "PolicyName", "a", "b") == "Never"
    assert stack_updates.recreation("AWS::Made::Up", "Name", "a", "b") == "Never"


if __name__ == "__main__":
    stack_updates.CREATE_ONLY_FILE.write_text(json.dumps(derived(), indent=1) + "\n")
    print(f"wrote {stack_updates.CREATE_ONLY_FILE}")
