"""JSON Schema of the topology file."""

from __future__ import annotations

from typing import Any

from meshlink import __version__
from meshlink.topology.model import Topology

SCHEMA_ID = "https://meshlink.dev/schema/meshlink.schema.json"


def topology_schema() -> dict[str, Any]:
    """The topology model's JSON Schema (draft 2020-12), with an id and a version."""
    schema = Topology.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "meshlink topology",
        "description": f"meshlink {__version__} topology file (meshlink.yaml)",
        **schema,
    }
