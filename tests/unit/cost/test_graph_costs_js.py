"""The HTML graph's script puts each edge's cost on mermaid's edge path (run in Node with
a stand-in DOM holding the paths mermaid 11 draws: data-edge, data-id L_<from>_<to>_0)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace

import pytest

from meshlink.render.diagram import Diagram, to_html
from meshlink.topology.loader import load_topology
from tests.helpers import EXAMPLES

NODE = shutil.which("node")

HARNESS = """
const paths = %(ids)s.map((id) => ({
  attrs: {"data-id": id, "data-edge": "true"}, children: [],
  getAttribute(name) { return this.attrs[name]; },
  setAttribute(name, value) { this.attrs[name] = value; },
  appendChild(child) { this.children.push(child); },
}));
const document = {
  getElementById: (id) => ({textContent: %(data)s}),
  querySelectorAll: () => paths,
  createElementNS: (ns, tag) => ({ns, tag, textContent: ""}),
};
%(script)s
meshlinkEdgeCosts();
console.log(JSON.stringify(paths.map((p) => [p.attrs["data-id"], p.attrs["data-cost"],
  p.children.map((c) => c.tag + ":" + c.textContent)])));
"""


def run_script(page: str, ids: list[str]) -> list[list[object]]:
    assert NODE is not None
    data = re.search(r'<script type="application/json" id="edge-costs">(.*?)</script>', page, re.S)
    script = re.search(r"(function meshlinkEdgeCosts\(\) \{.*?\n\})", page, re.S)
    assert data and script
    source = HARNESS % {
        "ids": json.dumps(ids),
        "data": json.dumps(data.group(1)),
        "script": script.group(1),
    }
    out = subprocess.run([NODE, "-e", source], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def page() -> str:
    diagram = Diagram(load_topology(EXAMPLES / "two-accounts.yaml"))
    costs = {
        ("user-service", "notification-service"): "$1 a month: one",
        ("notification-service", "user-service"): "$2 a month: two",
    }
    return to_html(replace(diagram, edge_costs=costs, cost_note="note"))


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_costs_go_on_the_paths_by_mermaid_id() -> None:
    # Drawn in the other order: matched by id, not by position.
    ids = ["L_n_notification_service_n_user_service_0", "L_n_user_service_n_notification_service_0"]
    assert run_script(page(), ids) == [
        [ids[0], "$2 a month: two", ["title:$2 a month: two"]],
        [ids[1], "$1 a month: one", ["title:$1 a month: one"]],
    ]


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_unknown_ids_fall_back_to_drawing_order() -> None:
    assert run_script(page(), ["a", "b"]) == [
        ["a", "$1 a month: one", ["title:$1 a month: one"]],
        ["b", "$2 a month: two", ["title:$2 a month: two"]],
    ]


def test_no_costs_no_script() -> None:
    html = to_html(Diagram(load_topology(EXAMPLES / "two-accounts.yaml")))
    assert "meshlinkEdgeCosts" not in html and "edge-costs" not in html
