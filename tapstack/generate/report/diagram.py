"""The architecture graph drawn: as a Mermaid flowchart (in the Markdown report) and in Graphviz DOT (SVG).

Both draw the same thing the same way, left to right as a request flows: the callers outside the stack,
one group per service (an API holding its routes), each arrow styled by what it means (LINE_STYLES: the
request path thick, the failure path dashed red, monitoring orange, encryption dotted grey), stateful
resources as cylinders and callers as ovals. `legend` explains it in Markdown; the SVG carries its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tapstack.generate.report.graph import (
    GROUP_PREFIX,
    SERVICE_TITLES,
    Edge,
    Graph,
    Node,
    build_graph,
)
from tapstack.generate.report.tables import STATE_DESCRIBERS
from tapstack.generate.report.text import markdown_table

MERMAID_KEYWORDS = frozenset(
    {"call", "class", "classdef", "click", "default", "direction", "end", "flowchart", "graph", "href"}
    | {"linkstyle", "style", "subgraph"}
)
BLACK, FAILURE_COLOUR, MONITORING_COLOUR, ENCRYPTION_COLOUR, OTHER_COLOUR = (
    "#000000",
    "#c0392b",
    "#d35400",
    "#7f8c8d",
    "#95a5a6",
)


@dataclass(frozen=True)
class LineStyle:
    """How the arrows of some edge kinds look, in Mermaid and in DOT, and what the legends say of them."""

    name: str  # in the SVG's legend
    looks: str  # in words, for the Markdown legend
    meaning: str
    kinds: tuple[str, ...]
    colour: str
    dot_style: str  # DOT's style: bold, solid, dashed or dotted
    mermaid_arrow: str  # ==> thick, --> solid, -.-> dotted (linkStyle turns it dashed or dotted)
    mermaid_dash: str = ""  # stroke-dasharray

    @property
    def mermaid_style(self) -> str:
        """The linkStyle of these arrows; "" where Mermaid's default (black) is the style."""
        if self.colour == BLACK and not self.mermaid_dash:
            return ""
        width = ",stroke-width:2px" if self.dot_style == "dashed" else ""
        dash = f",stroke-dasharray:{self.mermaid_dash}" if self.mermaid_dash else ""
        return f"stroke:{self.colour}{width}{dash}"

    @property
    def dot_attributes(self) -> tuple[str, ...]:
        attributes = [] if self.dot_style == "solid" else [f"style={self.dot_style}"]
        attributes += {"bold": ["penwidth=2"], "dashed": ["penwidth=1.5"]}.get(self.dot_style, [])
        if self.colour != BLACK:
            attributes += [f'color="{self.colour}"', f'fontcolor="{self.colour}"']
        return tuple(attributes)


LINE_STYLES = (
    LineStyle(
        "request path",
        "thick black",
        "the request path: callers call the API's routes, which invoke the functions; a web ACL filters "
        "the requests to the API it is associated with",
        ("calls", "filters", "invokes", "on success"),
        BLACK,
        "bold",
        "==>",
    ),
    LineStyle(
        "data",
        "thin black",
        "data a function writes, reads or publishes; logs a resource delivers",
        ("publishes", "writes", "reads", "logs to", "log events"),
        BLACK,
        "solid",
        "-->",
    ),
    LineStyle(
        "failure path",
        "dashed red",
        "the failure path: where an asynchronous event goes once its function has failed it for good",
        ("on failure",),
        FAILURE_COLOUR,
        "dashed",
        "-.->",
        "8 4",
    ),
    LineStyle(
        "monitoring",
        "thin orange",
        "monitoring: a metric an alarm watches (labelled with its name), and what the alarm notifies",
        ("metric", "notifies"),
        MONITORING_COLOUR,
        "solid",
        "-->",
    ),
    LineStyle(
        "encryption",
        "dotted grey",
        "what a KMS key encrypts: the resource itself, or the part its label names",
        ("encrypts",),
        ENCRYPTION_COLOUR,
        "dotted",
        "-.->",
        "2 4",
    ),
    LineStyle(
        "other reference",
        "thin grey",
        "any other reference",
        ("uses", "depends on"),
        OTHER_COLOUR,
        "solid",
        "-->",
    ),
)
STYLE_OF_KIND = {kind: style for style in LINE_STYLES for kind in style.kinds}
OTHER_STYLE = LINE_STYLES[-1]

# Groups drawn as one column in the SVG: the alarms, between the metrics they watch and what they notify.
ONE_COLUMN_SERVICES = frozenset({"CloudWatch"})
SHAPES = (
    (
        "oval",
        "a caller outside the stack, derived from the API's routes (their API keys, their webhook URLs)",
    ),
    ("cylinder", "a resource that holds data (its retention and encryption are in *Stateful resources*)"),
    ("box", "any other resource, with the plumbing that serves it folded in (see the table below)"),
    ("box around boxes", "a service; an API holds its routes. An arrow to or from it applies to all inside"),
)


def line_style(kind: str) -> LineStyle:
    return STYLE_OF_KIND.get(kind, OTHER_STYLE)


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


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: a double quote would end it."""
    return text.replace('"', "#quot;")


def _compound_title(node: Node) -> str:
    """The title of a node drawn as a box around its parts: `Api (RestApi)`."""
    first, *rest = node.lines
    return f"{first} ({', '.join(rest)})" if rest else first


def _top_level(nodes: tuple[Node, ...]) -> Iterator[Node]:
    """The nodes not drawn inside another one of the group."""
    drawn = {node.logical_id for node in nodes}
    return (node for node in nodes if node.parent is None or node.parent not in drawn)


def render_mermaid(graph: Graph) -> str:
    """The graph as a Mermaid flowchart: one subgraph per service (an API a subgraph of its routes),
    arrows styled by LINE_STYLES."""
    lines = ["flowchart LR"]

    def draw(node: Node, indent: str) -> None:
        children = graph.children(node.logical_id)
        if children:
            lines.append(
                f'{indent}subgraph {mermaid_id(node.logical_id)}["{_mermaid_text(_compound_title(node))}"]'
            )
            for child in children:
                draw(child, indent + "  ")
            lines.append(f"{indent}end")
            return
        label = _mermaid_text("<br/>".join(node.lines))
        if node.is_caller:
            opening, closing = '(["', '"])'
        elif _is_stateful(node):
            opening, closing = '[("', '")]'
        else:
            opening, closing = '["', '"]'
        lines.append(f"{indent}{mermaid_id(node.logical_id)}{opening}{label}{closing}")

    for service, nodes in graph.groups:
        lines.append(f'  subgraph {mermaid_id(GROUP_PREFIX + service)}["{_service_title(service)}"]')
        for node in _top_level(nodes):
            draw(node, "    ")
        lines.append("  end")
    styled: dict[str, list[str]] = defaultdict(list)
    for index, edge in enumerate(graph.edges):
        style = line_style(edge.kind)
        label = f'|"{_mermaid_text(edge.label)}"|'
        lines.append(f"  {mermaid_id(edge.source)} {style.mermaid_arrow}{label} {mermaid_id(edge.target)}")
        if style.mermaid_style:
            styled[style.mermaid_style].append(str(index))
    lines += [
        f"  linkStyle {','.join(indexes)} {style}"
        for style in (style.mermaid_style for style in LINE_STYLES)
        if (indexes := styled.get(style))
    ]
    return "\n".join(lines)


# What an arrow of these kinds says, where that is not the kind's own name.
LABEL_NOTES = {
    "calls": "the path a caller calls (or `with API key`)",
    "metric": "the metric's name",
    "encrypts": "`encrypts`; `encrypts logs of` and the like when it encrypts part of the node",
}


def legend() -> str:
    """The diagram's legend in Markdown: what each line style and shape means."""
    lines = markdown_table(
        ("Line", "Means", "Labels"),
        [
            [
                style.looks,
                style.meaning,
                ", ".join(LABEL_NOTES.get(kind, f"`{kind}`") for kind in style.kinds),
            ]
            for style in LINE_STYLES
        ],
    )
    shapes = markdown_table(("Shape", "Means"), [list(shape) for shape in SHAPES])
    return f"{lines}\n\n{shapes}"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _cluster(name: str) -> str:
    """The DOT cluster a group or a node with parts is drawn as."""
    if name.startswith(GROUP_PREFIX):
        return "cluster_service_" + name.removeprefix(GROUP_PREFIX)
    return "cluster_node_" + name


def _anchor(name: str, graph: Graph) -> str:
    """A node drawn inside a group or a node with parts, for DOT to clip an edge to that cluster at."""
    members = graph.group_members(name) if name.startswith(GROUP_PREFIX) else graph.children(name)
    first = members[0]
    return _anchor(first.logical_id, graph) if graph.children(first.logical_id) else first.logical_id


def _dot_node(node: Node) -> str:
    attributes = [f"label={_dot_quote(chr(10).join(node.lines))}"]
    if node.is_caller:
        attributes.append("shape=ellipse, style=solid")
    elif _is_stateful(node):
        attributes.append("shape=cylinder, style=solid")
    return f"{_dot_quote(node.logical_id)} [{', '.join(attributes)}];"


def _dot_edge(edge: Edge, graph: Graph) -> str:
    # Graphviz draws an edge to a cluster as an edge to one member clipped at the cluster's border.
    attributes = [f"label={_dot_quote(edge.label)}"]
    ends = []
    for end, clip in ((edge.source, "ltail"), (edge.target, "lhead")):
        if end.startswith(GROUP_PREFIX) or graph.children(end):
            attributes.append(f"{clip}={_dot_quote(_cluster(end))}")
            ends.append(_anchor(end, graph))
        else:
            ends.append(end)
    attributes += line_style(edge.kind).dot_attributes
    return f"  {_dot_quote(ends[0])} -> {_dot_quote(ends[1])} [{', '.join(attributes)}];"


def _html_table(cells: list[str]) -> str:
    rows = "".join(f"<tr>{cell}</tr>" for cell in cells)
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="0">{rows}</table>>'


def _dot_legend() -> list[str]:
    """A legend cluster: a sample arrow per line style, from a column of ports to the style's name (two
    HTML-like tables, so the rows sit close together), and a sample node per shape."""
    starts = [f'<td port="p{index}" height="16" width="4"></td>' for index in range(len(LINE_STYLES))]
    names = [
        f'<td port="p{index}" height="16" align="left">&#160;{style.name}</td>'
        for index, style in enumerate(LINE_STYLES)
    ]
    lines = [
        '  subgraph "cluster_legend" {',
        '    label="Legend"; style=dashed; color="#bbbbbb";',
        f'    "legend:from" [shape=plaintext, label={_html_table(starts)}];',
        f'    "legend:to" [shape=plaintext, fontsize=9, label={_html_table(names)}];',
    ]
    lines += [
        f'    "legend:from":p{index}:e -> "legend:to":p{index}:w [{", ".join(style.dot_attributes)}];'
        for index, style in enumerate(LINE_STYLES)
    ]
    samples = (
        ("caller", "shape=ellipse", "caller outside the stack"),
        ("stateful", "shape=cylinder", "holds data"),
        ("resource", "shape=box, style=rounded", "resource"),
    )
    lines += [
        f'    "legend:{name}" [{attributes}, label={_dot_quote(text)}];' for name, attributes, text in samples
    ]
    lines.append("  }")
    return lines


def render_dot(document: Mapping[str, Any]) -> str:
    """The same graph as render_report's diagram, in Graphviz DOT (clusters for the service groups and
    for an API around its routes), with a legend cluster."""
    graph = build_graph(document)
    lines = [
        "digraph TapStack {",
        # newrank: a rank=same may hold nodes of a cluster (the alarms' column).
        '  graph [rankdir=LR, compound=true, newrank=true, fontname="Helvetica", fontsize=11];',
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]

    def draw(node: Node, indent: str) -> None:
        children = graph.children(node.logical_id)
        if not children:
            lines.append(indent + _dot_node(node))
            return
        lines.append(f"{indent}subgraph {_dot_quote(_cluster(node.logical_id))} {{")
        lines.append(f"{indent}  label={_dot_quote(_compound_title(node))};")
        for child in children:
            draw(child, indent + "  ")
        lines.append(f"{indent}}}")

    for service, nodes in graph.groups:
        lines.append(f"  subgraph {_dot_quote(_cluster(GROUP_PREFIX + service))} {{")
        lines.append(f"    label={_dot_quote(_service_title(service))};")
        for node in _top_level(nodes):
            draw(node, "    ")
        if service in ONE_COLUMN_SERVICES:
            lines.append(f"    {{rank=same; {'; '.join(_dot_quote(node.logical_id) for node in nodes)}}}")
        lines.append("  }")
    lines += [_dot_edge(edge, graph) for edge in graph.edges]
    lines += _dot_legend()
    lines.append("}")
    return "\n".join(lines) + "\n"
