"""The CloudWatch dashboard: one section per concern (deliveries, each function, dead letters, API, WAF),
drawn from the same definitions the alarms are built from (templates/monitoring.py).

The body is the JSON of https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
with the stack's names and Region placed by Fn::Sub; the graphs that exist under a condition (the
web ACL's) make it an Fn::If between the body with them and the body without.
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import AWSHelperFn, If, Ref, Sub
from troposphere.cloudwatch import Dashboard

from templates.metrics import Graph, MetricSpec, Section
from templates.naming import StackNames

GRID_COLUMNS = 24
"""A dashboard is 24 units wide."""
HEADER_HEIGHT = 1
GRAPH_HEIGHT = 6
MIN_GRAPH_WIDTH = 8
PERIOD_SECONDS = 300


def _placeholder(value: object) -> str:
    """An intrinsic of the body as the Fn::Sub placeholder that gives its value: `${Name}` for a Ref,
    `${Name.Attribute}` for a GetAtt, a Sub's own text."""
    rendered = value.to_dict() if isinstance(value, AWSHelperFn) else None
    if isinstance(rendered, dict):
        if isinstance(rendered.get("Ref"), str):
            return "${" + str(rendered["Ref"]) + "}"
        if isinstance(rendered.get("Fn::GetAtt"), list):
            return "${" + ".".join(map(str, rendered["Fn::GetAtt"])) + "}"
        if isinstance(rendered.get("Fn::Sub"), str):
            return str(rendered["Fn::Sub"])
    raise TypeError(
        f"a dashboard value must be text, a number, a Ref, a GetAtt or an Fn::Sub text: {value!r}"
    )


def _as_sub(body: dict[str, Any]) -> Sub:
    """The body as JSON text in an Fn::Sub (its placeholders sit inside JSON strings)."""
    if "${" in json.dumps(body, default=lambda _: "", separators=(",", ":")):
        raise ValueError("a literal `${` in the dashboard would read as an Fn::Sub placeholder")
    return Sub(json.dumps(body, default=_placeholder, separators=(",", ":")))


def _metric_lines(metric: MetricSpec, statistics: tuple[str, ...]) -> list[list[Any]]:
    """The metrics-array entries of `metric`: one per statistic, labelled with it when there are several."""
    identity: list[Any] = [metric.namespace, metric.name]
    for name, value in metric.dimensions:
        identity += [name, value]
    label = metric.label or metric.name
    return [
        [*identity, {"stat": statistic, "label": label if len(statistics) == 1 else f"{label} {statistic}"}]
        for statistic in statistics
    ]


def _graph_properties(graph: Graph) -> dict[str, Any]:
    metrics: list[list[Any]] = [
        line for metric in graph.all_metrics() for line in _metric_lines(metric, graph.statistics)
    ]
    metrics += [
        [{"expression": search.expression(), "label": search.label, "id": f"search{index}"}]
        for index, search in enumerate(graph.searches)
    ]
    return {
        "title": graph.title,
        "view": "timeSeries",
        "stacked": False,
        "region": Ref("AWS::Region"),
        "period": PERIOD_SECONDS,
        "stat": graph.statistics[0],
        "metrics": metrics,
    }


def dashboard_body(sections: list[Section], *, conditions_hold: bool) -> dict[str, Any]:
    """The body as JSON-ready data (values may be intrinsics): graphs under a condition are drawn only
    when `conditions_hold`; a section left without graphs is left out."""
    widgets: list[dict[str, Any]] = []
    y = 0
    for section in sections:
        graphs = [graph for graph in section.graphs if graph.condition is None or conditions_hold]
        if not graphs:
            continue
        widgets.append(
            {
                "type": "text",
                "x": 0,
                "y": y,
                "width": GRID_COLUMNS,
                "height": HEADER_HEIGHT,
                "properties": {"markdown": f"## {section.title}"},
            }
        )
        y += HEADER_HEIGHT
        width = max(MIN_GRAPH_WIDTH, GRID_COLUMNS // len(graphs))
        per_row = GRID_COLUMNS // width
        for index, graph in enumerate(graphs):
            row, column = divmod(index, per_row)
            widgets.append(
                {
                    "type": "metric",
                    "x": column * width,
                    "y": y + row * GRAPH_HEIGHT,
                    "width": width,
                    "height": GRAPH_HEIGHT,
                    "properties": _graph_properties(graph),
                }
            )
        y += -(-len(graphs) // per_row) * GRAPH_HEIGHT
    return {"start": "-PT6H", "periodOverride": "auto", "widgets": widgets}


def build_dashboard(names: StackNames, sections: list[Section]) -> Dashboard:
    conditions = {graph.condition for section in sections for graph in section.graphs if graph.condition}
    if len(conditions) > 1:
        raise ValueError(f"the dashboard draws graphs under one condition at most, not {sorted(conditions)}")
    with_all = _as_sub(dashboard_body(sections, conditions_hold=True))
    body: AWSHelperFn = with_all
    if conditions:
        without = _as_sub(dashboard_body(sections, conditions_hold=False))
        body = If(conditions.pop(), with_all, without)
    return Dashboard("Dashboard", DashboardName=names.dashboard.sub(), DashboardBody=body)
