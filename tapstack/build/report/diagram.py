"""The architecture graph drawn: as a Mermaid flowchart (in the Markdown report) and in Graphviz DOT (SVG).

Both draw the same thing the same way: one group per service, the request path bold, the failure path
dashed red, what a KMS key encrypts dashed grey, and stateful resources as cylinders.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from tapstack.build.report.graph import GROUP_PREFIX, SERVICE_TITLES, Graph, Node, build_graph
from tapstack.build.report.tables import STATE_DESCRIBERS
from tapstack.build.report.text import short_type

REQUEST_PATH_KINDS = frozenset({"invokes", "on success"})
FAILURE_PATH_KINDS = frozenset({"on failure", "alarms on", "notifies"})
FAILURE_COLOUR, ENCRYPTION_COLOUR = "#c0392b", "#7f8c8d"
MERMAID_KEYWORDS = frozenset(
    {"call", "class", "classdef", "click", "default", "direction", "end", "flowchart", "graph", "href"}
    | {"linkstyle", "style", "subgraph"}
)


def _is_stateful(node: Node) -> bool:
    """What the stateful-resources table describes holds data: the diagram draws it as a cylinder."""
    return node.resource_type in STATE_DESCRIBERS


def mermaid_id(name: str) -> str:
    """A Mermaid-safe node id: the logical id itself unless it is a keyword or has unsafe characters.

    Escaped ids carry an underscore, which CloudFormation logical ids cannot contain, so they never
    collide with a plain one.
    """
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name) and name.lower() not in MERMAID_KEYWORDS:
        return name
    return "r_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def _service_title(service: str) -> str:
    return SERVICE_TITLES.get(service, service)


def render_mermaid(graph: Graph) -> str:
    """The graph as a Mermaid flowchart: one subgraph per service, request path thick, failures dotted."""
    lines = ["flowchart LR"]
    for service, nodes in graph.groups:
        lines.append(f'  subgraph {mermaid_id(GROUP_PREFIX + service)}["{_service_title(service)}"]')
        for node in nodes:
            label = f"{node.logical_id}<br/>{short_type(node.resource_type)}"
            opening, closing = ('[("', '")]') if _is_stateful(node) else ('["', '"]')
            lines.append(f"    {mermaid_id(node.logical_id)}{opening}{label}{closing}")
        lines.append("  end")
    coloured: dict[str, list[str]] = defaultdict(list)
    for index, edge in enumerate(graph.edges):
        arrow = {"bold": "==>", "dashed": "-.->", "solid": "-->"}[_line_style(edge.kind)]
        lines.append(f"  {mermaid_id(edge.source)} {arrow}|{edge.kind}| {mermaid_id(edge.target)}")
        colour = _edge_colour(edge.kind)
        if colour:
            coloured[colour].append(str(index))
    lines += [
        f"  linkStyle {','.join(indexes)} stroke:{colour}" for colour, indexes in sorted(coloured.items())
    ]
    return "\n".join(lines)


def _line_style(kind: str) -> str:
    """Request path bold, failure path and encryption dashed, the rest solid (Mermaid and DOT alike)."""
    if kind in REQUEST_PATH_KINDS:
        return "bold"
    return "dashed" if kind in FAILURE_PATH_KINDS or kind == "encrypts" else "solid"


def _edge_colour(kind: str) -> str | None:
    if kind == "encrypts":
        return ENCRYPTION_COLOUR
    return FAILURE_COLOUR if kind in FAILURE_PATH_KINDS else None


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(document: Mapping[str, Any]) -> str:
    """The same graph as render_report's diagram, in Graphviz DOT (clusters for the service groups)."""
    graph = build_graph(document)
    lines = [
        "digraph TapStack {",
        '  graph [rankdir=LR, compound=true, fontname="Helvetica", fontsize=11];',
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for service, nodes in graph.groups:
        lines.append(f"  subgraph {_dot_quote('cluster_' + service)} {{")
        lines.append(f"    label={_dot_quote(_service_title(service))};")
        for node in nodes:
            label = _dot_quote(f"{node.logical_id}\n{short_type(node.resource_type)}").replace("\n", "\\n")
            shape = ", shape=cylinder" if _is_stateful(node) else ""
            lines.append(f"    {_dot_quote(node.logical_id)} [label={label}{shape}];")
        lines.append("  }")
    for edge in graph.edges:
        # Graphviz draws an edge to a cluster as an edge to one member clipped at the cluster's border.
        attributes = [f"label={_dot_quote(edge.kind)}"]
        ends = []
        for end, clip in ((edge.source, "ltail"), (edge.target, "lhead")):
            if end.startswith(GROUP_PREFIX):
                attributes.append(f"{clip}={_dot_quote('cluster_' + end.removeprefix(GROUP_PREFIX))}")
                ends.append(graph.group_members(end)[0].logical_id)
            else:
                ends.append(end)
        if _line_style(edge.kind) != "solid":
            attributes.append(f"style={_line_style(edge.kind)}")
        colour = _edge_colour(edge.kind)
        if colour:
            attributes.append(f"color={_dot_quote(colour)}")
        lines.append(f"  {_dot_quote(ends[0])} -> {_dot_quote(ends[1])} [{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
