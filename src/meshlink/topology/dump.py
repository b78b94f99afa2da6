"""Write a Topology back out as YAML (used by `meshlink convert`)."""

from __future__ import annotations

from typing import Any

import yaml

from meshlink.topology.model import Topology


class _QuotedString(str):
    pass


def _quoted(dumper: yaml.SafeDumper, value: _QuotedString) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_QuotedString, _quoted)


def to_yaml(topology: Topology, comments: list[str] | None = None) -> str:
    """YAML for `topology`, defaults left out, account ids quoted; `comments` on top."""
    data: dict[str, Any] = topology.model_dump(mode="json", exclude_defaults=True)
    data = {"name": topology.name, "region": topology.region, "target": topology.target, **data}
    for account in data.get("accounts", {}).values():
        account["id"] = _QuotedString(account["id"])
    header = "# yaml-language-server: $schema=https://meshlink.dev/schema/meshlink.schema.json\n"
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
    said = "".join(f"# {line}\n" for line in comments or [])
    return header + said + body
