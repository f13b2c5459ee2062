"""Templates to report on, and readers of the rendered report, for the report tests."""

from __future__ import annotations

import copy
import datetime
import json
import re
from typing import Any

from tapstack import paths
from tapstack.generate.report import mermaid_id
from templates.config import StackConfig
from templates.stack import build_template, render

ROOT = paths.REPOSITORY
COMMITTED_TEMPLATE = ROOT / "output" / "TapStack.json"
# A fixed "today", so the runtime-deprecation check gives the same answer on every day the tests run.
TODAY = datetime.date(2026, 11, 23)
MERMAID_EDGE = re.compile(r'^  (\S+) (==>|-\.->|-->)\|"([^"|]+)"\| (\S+)$', re.MULTILINE)
MERMAID_LINK_STYLE = re.compile(r"^  linkStyle ([0-9,]+) (.+)$", re.MULTILINE)
DOT_EDGE = re.compile(r'^  "([^"]+)" -> "([^"]+)" \[label="([^"]+)"(.*)\];$', re.MULTILINE)
DOT_CLIP = re.compile(r'(ltail|lhead)="cluster_(service_|node_)([^"]+)"')


def committed_template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(COMMITTED_TEMPLATE.read_text(encoding="utf-8"))
    return loaded


def built_template(**settings: Any) -> dict[str, Any]:
    """The template the generator emits for these settings (defaults otherwise)."""
    built: dict[str, Any] = json.loads(render(build_template(StackConfig(today=TODAY, **settings))))
    return built


def variant(template: dict[str, Any]) -> dict[str, Any]:
    """A copy to change without touching the original."""
    return copy.deepcopy(template)


def mermaid_block(report: str) -> str:
    return report.split("```mermaid\n", 1)[1].split("\n```", 1)[0]


def diagram_edges(report: str) -> set[tuple[str, str, str]]:
    """(source, label, target) for every arrow of the report's Mermaid diagram."""
    return {(source, label, target) for source, label, target, _ in mermaid_arrows(report)}


def mermaid_arrows(report: str) -> list[tuple[str, str, str, str]]:
    """(source, label, target, style) for every arrow of the report's Mermaid diagram, in order; style
    is the arrow's linkStyle, or its arrow (==>, -->, -.->) where it has none."""
    block = mermaid_block(report)
    styles = {
        int(index): style
        for indexes, style in MERMAID_LINK_STYLE.findall(block)
        for index in indexes.split(",")
    }
    return [
        (source, label, target, styles.get(index, arrow))
        for index, (source, arrow, label, target) in enumerate(MERMAID_EDGE.findall(block))
    ]


def dot_edge_attributes(dot: str) -> dict[tuple[str, str, str], str]:
    """(source, label, target) of DOT edges -> their other attributes; an edge clipped at a cluster is
    named by the cluster's group (service:Lambda) or node. The legend's unlabelled samples are left out."""
    edges = {}
    for source_node, target_node, label, attributes in DOT_EDGE.findall(dot):
        clips = {clip: (kind, name) for clip, kind, name in DOT_CLIP.findall(attributes)}
        ends = []
        for node, clip in ((source_node, "ltail"), (target_node, "lhead")):
            if clip not in clips:
                ends.append(node)
            else:
                kind, name = clips[clip]
                ends.append(f"service:{name}" if kind == "service_" else name)
        edges[(ends[0], label, ends[1])] = attributes
    return edges


def dot_edges(dot: str) -> set[tuple[str, str, str]]:
    """(source, label, target) of the DOT edges, named as the Mermaid diagram names them."""
    return {
        (mermaid_id(source), label, mermaid_id(target)) for source, label, target in dot_edge_attributes(dot)
    }


def _cells(line: str) -> list[str]:
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def table_rows(report: str, heading: str) -> list[list[str]]:
    """The body rows of the first table under heading (up to the next heading); [] for `_None._`."""
    section = report.split(f"\n{heading}\n", 1)[1]
    lines = []
    for line in section.splitlines():
        if line.startswith("#"):
            break
        if line.startswith("| "):
            lines.append(_cells(line))
    return lines[2:]


def rows_naming(report: str, heading: str, text: str) -> list[list[str]]:
    return [row for row in table_rows(report, heading) if any(text in cell for cell in row)]
