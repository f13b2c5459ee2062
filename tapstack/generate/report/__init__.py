"""What a CloudFormation template deploys, for reviewers and auditors: a diagram and audit tables in Markdown.

    tapstack report [--template output/TapStack.json] [--output output/TapStack.md] [--check]
    tapstack diagram --output output/TapStack.svg    (the same graph drawn by Graphviz's `dot`)

Everything is derived from the template, read through `tapstack.cfn.model`: the diagram's edges from Ref,
Fn::GetAtt, Fn::Sub and DependsOn, asynchronous destinations, dead-letter configs, API integrations,
environment variables, IAM statements and alarm dimensions (`graph`, drawn by `diagram`); the tables from
the resources' properties and metadata (`tables`). Nothing is drawn by hand, so a change to the generator
shows up in the report. The output is deterministic: sorted, no timestamps.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tapstack.cfn.model import Template
from tapstack.cost.render import cost_section
from tapstack.exits import CommandError
from tapstack.generate.report.diagram import MERMAID_KEYWORDS, legend, mermaid_id, render_dot, render_mermaid
from tapstack.generate.report.graph import Edge, Graph, Node, build_graph
from tapstack.generate.report.tables import (
    cdk_nag_table,
    checkov_table,
    control_tower_table,
    dashboard_table,
    folded_table,
    functions_table,
    iam_table,
    outputs_table,
    parameters_table,
    resource_policies_table,
    routes_table,
    settings_table,
    stateful_table,
    wildcard_table,
)
from tapstack.generate.report.text import code, expression, markdown_table

__all__ = [
    "MERMAID_KEYWORDS",
    "Edge",
    "Graph",
    "Node",
    "build_graph",
    "code",
    "expression",
    "markdown_table",
    "mermaid_id",
    "render_dot",
    "render_mermaid",
    "render_report",
    "write_svg",
]

GRAPHVIZ_MISSING = (
    "the diagram needs Graphviz's `dot`, which is not on PATH. Install it with "
    "`sudo apt-get install graphviz` (Debian/Ubuntu) or `brew install graphviz` (macOS). "
    "The Markdown report does not need it."
)
FOLDED = (
    "Roles, policies, log groups, permissions, invoke configs, API keys and usage plans and the API's "
    "resources, stage and deployment are drawn as part of the node they serve:"
)


def render_report(document: Mapping[str, Any]) -> str:
    """The Markdown report of a template: diagram, entry points, functions, state, IAM, skips, cost,
    interface."""
    template = Template(document)
    graph = build_graph(document)
    sections = [
        "# What the template deploys",
        "Generated from the CloudFormation template by `tapstack report` "
        "(run by `make template`); do not edit it by hand.",
        f"> {template.description}" if template.description is not None else "",
        "## Architecture",
        "Derived from the template's references, destinations, dead-letter configs, API integrations, "
        "environment variables, IAM statements, alarm dimensions and metric filters. Arrows point the way "
        "data or control flows: from the callers through the API's routes and the functions to what they "
        "write, from a metric's source to the alarm watching it and on to what the alarm notifies, from the "
        "key to what it encrypts. Each pair of nodes has one arrow, labelled with its strongest relation. "
        "The callers come from the routes: the API keys a route requires, and the providers its webhook "
        "URL outputs name. `tapstack diagram` draws the same graph as an SVG, with this legend.",
        f"```mermaid\n{render_mermaid(graph)}\n```",
        legend(),
        FOLDED,
        folded_table(graph),
        "## Public entry points",
        routes_table(template),
        "## Functions",
        functions_table(template),
        "## Stateful resources",
        stateful_table(template),
        "## Dashboard",
        "The graphs of the CloudWatch dashboard, read from its body: each metric with the statistics drawn, "
        "and the metric math searches that draw whatever matches them.",
        dashboard_table(template),
        "## IAM",
        "### Roles",
        iam_table(template),
        "### Wildcards",
        "Every Allow statement with a wildcard action, resource or principal. The statement id (Sid) is the "
        "reason the template gives for it.",
        wildcard_table(template),
        "### Resource policies",
        resource_policies_table(template),
        "## Guardrail exceptions",
        "What the scanners `tapstack lint` runs would flag and the template answers, each with its reason. "
        "checkov and cdk-nag read the skips and suppressions in each resource's Metadata themselves. "
        "Control Tower's proactive controls run as CloudFormation hooks and cannot be suppressed: the "
        "template's Metadata (`TapStack::ControlTower`) lists the controls some parameter values fail "
        "and the values that meet them, or why none can; `params/landing-zone.json` meets all it can, "
        "and lint fails on any Control Tower finding this table does not explain.",
        "### checkov skips",
        checkov_table(template),
        "### cdk-nag suppressions",
        cdk_nag_table(template),
        "### Control Tower controls",
        control_tower_table(template),
        cost_section(document).rstrip("\n"),
        "## Settings",
        "The generation settings in force (`tapstack.toml`, or `--config` and flags), recorded in the "
        "template's Metadata.",
        settings_table(template),
        "## Parameters",
        parameters_table(template),
        "## Outputs",
        outputs_table(template),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def write_svg(document: Mapping[str, Any], path: Path) -> None:
    """Draw the template's diagram to an SVG file with Graphviz's `dot`."""
    dot = shutil.which("dot")
    if dot is None:
        raise CommandError(GRAPHVIZ_MISSING)
    path.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603 (dot from PATH, reading our own DOT on stdin)
        [dot, "-Tsvg", "-o", str(path)],
        input=render_dot(document),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandError(f"dot failed: {result.stderr.strip()}")
    print(f"wrote {path}")
