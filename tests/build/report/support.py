"""Templates to report on, and readers of the rendered report, for the report tests."""

from __future__ import annotations

import copy
import datetime
import json
import re
from typing import Any

from tapstack import paths
from templates.config import StackConfig
from templates.stack import build_template, render

ROOT = paths.REPOSITORY
COMMITTED_TEMPLATE = ROOT / "output" / "TapStack.json"
# A fixed "today", so the runtime-deprecation check gives the same answer on every day the tests run.
TODAY = datetime.date(2026, 11, 23)
MERMAID_EDGE = re.compile(r"^  (\S+) (?:==>|-\.->|-->)\|([^|]+)\| (\S+)$", re.MULTILINE)
DOT_EDGE = re.compile(r'^  "([^"]+)" -> "([^"]+)" \[label="([^"]+)"(.*)\];$', re.MULTILINE)
DOT_CLIP = re.compile(r'(ltail|lhead)="cluster_([^"]+)"')


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
    """(source, kind, target) for every arrow of the report's Mermaid diagram."""
    return {(source, kind, target) for source, kind, target in MERMAID_EDGE.findall(mermaid_block(report))}


def dot_edges(dot: str) -> set[tuple[str, str, str]]:
    """(source, kind, target) of DOT edges, an edge clipped at a cluster named as Mermaid names the group."""
    edges = set()
    for source_node, target_node, kind, attributes in DOT_EDGE.findall(dot):
        clips = dict(DOT_CLIP.findall(attributes))
        source = f"r_service_{clips['ltail']}" if "ltail" in clips else source_node
        target = f"r_service_{clips['lhead']}" if "lhead" in clips else target_node
        edges.add((source, kind, target))
    return edges


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
