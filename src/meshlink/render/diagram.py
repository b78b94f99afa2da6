"""Draw the mesh: accounts as boxes, services as nodes, consumption as arrows."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, replace
from importlib import resources
from typing import Literal

from meshlink.topology.model import Topology

EdgeState = Literal["pass", "fail", "unknown"]
EDGE_COLOURS = {"pass": "#2da44e", "fail": "#cf222e", "unknown": "#57606a"}
NOTICE_COLOUR = "#9a6700"


@dataclass(frozen=True)
class Notice:
    """A warning drawn with the mesh (a stale verify result): what, why, what to run."""

    headline: str
    reasons: tuple[str, ...] = ()
    remedy: str | None = None

    def line(self) -> str:
        """The whole notice on one line (mermaid and DOT titles)."""
        text = "WARNING: " + self.headline
        if self.reasons:
            text += ": " + "; ".join(self.reasons)
        return text + (f". Fix: {self.remedy}" if self.remedy else "")


@dataclass(frozen=True)
class Diagram:
    """The mesh as drawable parts; `edge_states` colours edges after `verify`."""

    topology: Topology
    edge_states: dict[tuple[str, str], EdgeState] | None = None
    notice: Notice | None = None
    # HTML only: each edge's monthly cost, shown when the pointer rests on the edge, and
    # a line under the diagram (the total, or why there is no price).
    edge_costs: dict[tuple[str, str], str] | None = None
    cost_note: str | None = None

    def state(self, edge: tuple[str, str]) -> EdgeState:
        return (self.edge_states or {}).get(edge, "unknown")


def _node_id(name: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def to_mermaid(diagram: Diagram) -> str:
    """Mermaid flowchart source."""
    topology = diagram.topology
    lines = ["flowchart LR"]
    if diagram.notice is not None:
        # Front matter: mermaid draws the title above the diagram (JSON is valid YAML).
        title = json.dumps(diagram.notice.line(), ensure_ascii=False)
        lines = ["---", f"title: {title}", "---", *lines]
    for key, account in topology.accounts.items():
        lines.append(f'  subgraph {_node_id("acct_" + key)}["{key} ({account.id})"]')
        for name in topology.services_in(key):
            port = topology.services[name].port
            lines.append(f'    {_node_id(name)}["{name} :{port}"]')
        lines.append("  end")
    if topology.external:
        lines.append('  subgraph n_external["external"]')
        for name, ext in topology.external.items():
            lines.append(f'    {_node_id(name)}(["{name} :{ext.port}"])')
        lines.append("  end")
    styles: list[str] = []
    for index, (consumer, provider) in enumerate(topology.edges()):
        state = diagram.state((consumer, provider))
        label = "" if diagram.edge_states is None else f"|{state}|"
        lines.append(f"  {_node_id(consumer)} -->{label} {_node_id(provider)}")
        if diagram.edge_states is not None:
            colour = EDGE_COLOURS[state]
            styles.append(f"  linkStyle {index} stroke:{colour},stroke-width:3px")
    return "\n".join(lines + styles) + "\n"


def to_dot(diagram: Diagram) -> str:
    """Graphviz DOT source."""
    topology = diagram.topology
    lines = ["digraph mesh {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for key, account in topology.accounts.items():
        lines.append(f"  subgraph cluster_{_node_id(key)} {{")
        lines.append(f"    label={json.dumps(f'{key} ({account.id})')};")
        for name in topology.services_in(key):
            port = topology.services[name].port
            lines.append(f"    {_node_id(name)} [label={json.dumps(f'{name} :{port}')}];")
        lines.append("  }")
    for name, ext in topology.external.items():
        label = json.dumps(f"{name} :{ext.port} (external)")
        lines.append(f"  {_node_id(name)} [label={label}, shape=ellipse];")
    for consumer, provider in topology.edges():
        attrs = ""
        if diagram.edge_states is not None:
            state = diagram.state((consumer, provider))
            attrs = f' [color="{EDGE_COLOURS[state]}", label="{state}", penwidth=2]'
        lines.append(f"  {_node_id(consumer)} -> {_node_id(provider)}{attrs};")
    if diagram.notice is not None:
        # Last, so the clusters above do not inherit the graph's label and its colour.
        label = _dot_string(diagram.notice.line())
        lines.append(f'  label={label}; labelloc=t; labeljust=l; fontcolor="{NOTICE_COLOUR}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    """A DOT quoted string (DOT knows no \\u escapes, so not json.dumps)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html_banner(notice: Notice | None) -> str:
    if notice is None:
        return ""
    reasons = "".join(f"<li>{html.escape(reason)}</li>" for reason in notice.reasons)
    remedy = f"<p>{html.escape(notice.remedy)}</p>" if notice.remedy else ""
    return (
        f'<div class="notice" id="notice" role="alert"><strong>Warning: '
        f"{html.escape(notice.headline)}</strong><ul>{reasons}</ul>{remedy}</div>\n"
    )


def mermaid_edge_id(consumer: str, provider: str) -> str:
    """The id mermaid 11 gives the (first) edge between two nodes: L_<start>_<end>_0."""
    return f"L_{_node_id(consumer)}_{_node_id(provider)}_0"


# After mermaid has drawn the SVG: each edge path gets a <title> (the browser shows it on
# hover) with its cost, found by mermaid's edge id, else by drawing order.
_COST_SCRIPT = """
function meshlinkEdgeCosts() {
  const costs = JSON.parse(document.getElementById("edge-costs").textContent);
  const paths = Array.from(document.querySelectorAll("#mesh svg [data-edge='true']"));
  costs.forEach((cost, index) => {
    const path = paths.find((p) => p.getAttribute("data-id") === cost.id) || paths[index];
    if (!path) return;
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = cost.text;
    path.appendChild(title);
    path.setAttribute("data-cost", cost.text);
  });
}
"""


def _html_costs(diagram: Diagram) -> tuple[str, str]:
    """(the page's cost section, the JavaScript that puts costs on the edges)."""
    if diagram.edge_costs is None and diagram.cost_note is None:
        return "", ""
    costs = [
        {"id": mermaid_edge_id(c, p), "edge": f"{c} -> {p}", "text": text}
        for (c, p), text in (diagram.edge_costs or {}).items()
    ]
    data = json.dumps(costs, ensure_ascii=False).replace("</", "<\\/")
    rows = "".join(
        f"<tr><td>{html.escape(cost['edge'])}</td><td>{html.escape(cost['text'])}</td></tr>"
        for cost in costs
    )
    note = f'<p id="cost-note">{html.escape(diagram.cost_note)}</p>' if diagram.cost_note else ""
    table = (
        f'<table id="edge-cost-table"><tr><th>edge</th><th>a month (hover an edge)</th></tr>'
        f"{rows}</table>"
        if rows
        else ""
    )
    section = f'{note}{table}\n<script type="application/json" id="edge-costs">{data}</script>\n'
    return section, _COST_SCRIPT


def to_html(diagram: Diagram) -> str:
    """A self-contained page (mermaid inlined, nothing fetched) that renders the mesh."""
    script = resources.files("meshlink.render").joinpath("vendor/mermaid.min.js").read_text("utf-8")
    title = html.escape(f"meshlink: {diagram.topology.name}")
    # The notice is the page's banner, not a second time the diagram's title.
    source = html.escape(to_mermaid(replace(diagram, notice=None)))
    cost_section, cost_script = _html_costs(diagram)
    cost_call = "meshlinkEdgeCosts(); " if cost_script else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}
.notice{{border:2px solid {NOTICE_COLOUR};background:#fff8c5;padding:.5rem 1rem;margin:1rem 0}}
#mesh svg [data-edge='true']{{pointer-events:stroke}}
#mesh svg [data-edge='true']:hover{{stroke-width:5px}}
#edge-cost-table td,#edge-cost-table th{{text-align:left;padding:.1rem 1rem .1rem 0}}
</style></head>
<body><h1>{title}</h1>
{_html_banner(diagram.notice)}<pre class="mermaid" id="mesh">
{source}</pre>
{cost_section}<script>{script}</script>
<script>{cost_script}
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
mermaid.run({{querySelector: "#mesh"}}).then(
  () => {{{cost_call}document.body.setAttribute("data-rendered", "yes");}},
  (err) => document.body.setAttribute("data-rendered", "error: " + err));
</script>
</body></html>
"""
