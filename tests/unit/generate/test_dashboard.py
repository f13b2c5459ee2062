"""The CloudWatch dashboard: a body CloudWatch's documented structure accepts, a graph for every alarm's
metric (the web ACL's only where it exists), per-function graphs for every function of the template, and
the receiver's refusals by each Reason code, with the dimensions the receiver really emits."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from troposphere import Ref, Select, Split

from handlers import receiver
from handlers.core.errors import Reason
from tapstack.cfn.model import Resolver, Template
from templates.contract import RECEIVER, SUFFIX_PARAMETER
from templates.dashboard import build_dashboard, dashboard_body
from templates.functions import METRICS_NAMESPACE
from templates.metrics import PERCENTILES, Graph, MetricSpec, Section
from templates.naming import StackNames
from tests.support.cfn import sub_text
from tests.support.settings import CONFIG_IN_FORCE

pytestmark = pytest.mark.settings

Document = dict[str, Any]
PSEUDO_PARAMETERS = {
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "stack-under-test",
}
SUFFIX = "test"

# "Dashboard Body Structure and Syntax" (CloudWatch API Reference), encoded: what CloudWatch accepts of
# the body, its widgets, the properties of the widget types the stack uses, and each metrics-array entry.
BODY_KEYS = {"widgets", "start", "end", "periodOverride", "variables"}
PERIOD_OVERRIDES = {"auto", "inherit"}
MAX_WIDGETS = 500
WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer"}
GRID_WIDTH = 24
MAX_WIDGET_HEIGHT = 1000
METRIC_WIDGET_KEYS = {
    "accountId", "annotations", "liveData", "legend", "metrics", "period", "region", "sparkline",
    "stacked", "stat", "timezone", "title", "trend", "view", "yAxis", "table", "setPeriodToTimeRange",
}  # fmt: skip
METRIC_VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
TEXT_WIDGET_KEYS = {"markdown", "background"}
RENDERING_KEYS = {"color", "label", "period", "stat", "visible", "yAxis", "id", "accountId", "region"}
EXPRESSION_KEYS = {"expression", "label", "id", "period", "color", "visible", "yAxis", "region", "accountId"}
PERIODS_UNDER_A_MINUTE = {1, 5, 10, 30}
METRIC_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
MAX_DIMENSIONS = 30
STATISTIC = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d+)?)$")


class _AnyAttribute(Mapping[str, str]):
    """Every attribute of one resource, each `<logical id>.<attribute>`."""

    def __init__(self, logical_id: str) -> None:
        self._logical_id = logical_id

    def __getitem__(self, attribute: str) -> str:
        return f"{self._logical_id}.{attribute}"

    def __contains__(self, attribute: object) -> bool:
        return isinstance(attribute, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _resolver(template: Document, **parameters: str) -> Resolver:
    model = Template(template)
    # A web ACL's Ref is `name|id|scope`; any other resource's reads as its logical id.
    physical_ids = {
        logical_id: f"{logical_id}|id|REGIONAL" if resource.type == "AWS::WAFv2::WebACL" else logical_id
        for logical_id, resource in model.resources.items()
    }
    return model.resolver(
        {SUFFIX_PARAMETER: SUFFIX, "CodeS3Bucket": "code", "CodeS3Key": "code.zip"}
        | PSEUDO_PARAMETERS
        | parameters,
        physical_ids=physical_ids,
        attributes={logical_id: _AnyAttribute(logical_id) for logical_id in model.resources},
    )


def _body(template: Document, resolver: Resolver) -> Document:
    text = resolver.resolve(template["Resources"]["Dashboard"]["Properties"]["DashboardBody"])
    assert isinstance(text, str)
    body: Document = json.loads(text)
    return body


def _metric_lines(body: Document) -> Iterator[tuple[str, list[Any]]]:
    """(graph title, metrics-array entry) for every entry of every metric widget."""
    for widget in body["widgets"]:
        if widget["type"] == "metric":
            for line in widget["properties"]["metrics"]:
                yield widget["properties"]["title"], line


def _identity(line: list[Any]) -> tuple[str, str, frozenset[tuple[str, str]]] | None:
    """(namespace, metric name, dimensions) of a metric entry; None for an expression."""
    if isinstance(line[0], dict):
        return None
    strings = line[:-1] if isinstance(line[-1], dict) else line
    namespace, name, *dimensions = strings
    return namespace, name, frozenset(zip(dimensions[::2], dimensions[1::2], strict=True))


def _alarmed_metrics(template: Document, resolver: Resolver) -> dict[str, tuple[str, str, frozenset[Any]]]:
    """Each alarm that exists for these parameters -> the metric it watches."""
    alarms = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        properties = resolver.resolve(resource["Properties"])
        dimensions = frozenset((d["Name"], d["Value"]) for d in properties.get("Dimensions", []))
        alarms[logical_id] = (properties["Namespace"], properties["MetricName"], dimensions)
    return alarms


def _check_metric_entry(line: object) -> None:
    assert isinstance(line, list), line
    assert line, "an empty metrics entry"
    if isinstance(line[0], dict):  # a math expression: one object
        assert len(line) == 1, line
        assert set(line[0]) <= EXPRESSION_KEYS, line
        assert "expression" in line[0], line
        assert METRIC_ID.match(line[0]["id"]), line
        return
    strings, options = (line[:-1], line[-1]) if isinstance(line[-1], dict) else (line, {})
    assert all(isinstance(item, str) and item for item in strings), line
    assert len(strings) >= 2, "namespace and metric name first"
    assert len(strings) % 2 == 0, "then dimension name-value pairs"
    assert (len(strings) - 2) // 2 <= MAX_DIMENSIONS, line
    assert set(options) <= RENDERING_KEYS, line
    assert "stat" not in options or STATISTIC.match(options["stat"]), line


def _check_widget(widget: Document) -> None:
    assert {"type", "x", "y", "width", "height", "properties"} >= set(widget), widget
    assert widget["type"] in WIDGET_TYPES
    x, y, width, height = (widget[key] for key in ("x", "y", "width", "height"))
    assert all(isinstance(value, int) for value in (x, y, width, height)), widget
    assert 0 <= x < GRID_WIDTH, widget
    assert 1 <= width <= GRID_WIDTH - x, widget
    assert y >= 0, widget
    assert 1 <= height <= MAX_WIDGET_HEIGHT, widget
    properties = widget["properties"]
    if widget["type"] == "text":
        assert set(properties) <= TEXT_WIDGET_KEYS, widget
        assert isinstance(properties["markdown"], str), widget
        return
    assert widget["type"] == "metric", "the stack draws text and metric widgets only"
    assert set(properties) <= METRIC_WIDGET_KEYS, set(properties) - METRIC_WIDGET_KEYS
    assert properties["region"] == PSEUDO_PARAMETERS["AWS::Region"]
    assert properties["view"] in METRIC_VIEWS
    period = properties["period"]
    assert period in PERIODS_UNDER_A_MINUTE or (period > 0 and period % 60 == 0), period
    assert STATISTIC.match(properties["stat"]), properties["stat"]
    assert properties["metrics"], f"{properties['title']}: a graph without metrics"
    for line in properties["metrics"]:
        _check_metric_entry(line)
    ids = [
        entry["id"]
        for line in properties["metrics"]
        for entry in line
        if isinstance(entry, dict) and "id" in entry
    ]
    assert len(ids) == len(set(ids)), f"{properties['title']}: metric ids must be unique in a widget"


@pytest.mark.parametrize("waf_enabled", ["true", "false"])
def test_the_body_is_json_the_documented_structure_accepts(template: Document, waf_enabled: str) -> None:
    body = _body(template, _resolver(template, WafEnabled=waf_enabled))
    assert set(body) <= BODY_KEYS
    assert isinstance(body["widgets"], list)
    assert body["periodOverride"] in PERIOD_OVERRIDES
    assert 0 < len(body["widgets"]) <= MAX_WIDGETS
    for widget in body["widgets"]:
        _check_widget(widget)
    # Laid out on the grid without overlaps.
    cells = [
        (column, row)
        for widget in body["widgets"]
        for column in range(widget["x"], widget["x"] + widget["width"])
        for row in range(widget["y"], widget["y"] + widget["height"])
    ]
    assert len(cells) == len(set(cells))


@pytest.mark.parametrize("waf_enabled", ["true", "false"])
def test_every_alarm_s_metric_has_a_graph(template: Document, waf_enabled: str) -> None:
    resolver = _resolver(template, WafEnabled=waf_enabled)
    drawn = {_identity(line) for _, line in _metric_lines(_body(template, resolver))}
    alarmed = _alarmed_metrics(template, resolver)
    assert ("WafBlockedRequestsAlarm" in alarmed) == (waf_enabled == "true")
    missing = {alarm: metric for alarm, metric in alarmed.items() if metric not in drawn}
    assert not missing, f"alarms without a graph of their metric: {missing}"
    # The web ACL's requests are drawn where the web ACL exists, and only there.
    waf_lines = {identity[1] for identity in drawn if identity is not None and identity[0] == "AWS/WAFV2"}
    assert waf_lines == ({"AllowedRequests", "BlockedRequests"} if waf_enabled == "true" else set())


def test_each_function_of_the_template_has_errors_throttles_and_duration_percentiles(
    template: Document,
) -> None:
    resolver = _resolver(template)
    lines = list(_metric_lines(_body(template, resolver)))
    functions = Template(template).properties_of_type("AWS::Lambda::Function")
    assert functions
    for logical_id, properties in functions.items():
        name = resolver.resolve({"Ref": logical_id})
        dimension = frozenset({("FunctionName", name)})
        for metric in ("Errors", "Throttles"):
            assert ("AWS/Lambda", metric, dimension) in {_identity(line) for _, line in lines}, (name, metric)
        durations = {
            line[-1]["stat"] for _, line in lines if _identity(line) == ("AWS/Lambda", "Duration", dimension)
        }
        assert durations == set(PERCENTILES), name
        # Its own metrics (outcomes, failures) by search on the service dimension Powertools gives them.
        role = properties["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        searches = [line[0]["expression"] for _, line in lines if _identity(line) is None]
        assert any(f'service="{role}"' in search and METRICS_NAMESPACE in search for search in searches), role


def test_refusals_are_drawn_by_every_reason_code_with_the_dimensions_the_receiver_emits(
    template: Document, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line per Reason (derived from the enum, never retyped), on exactly the namespace and
    dimensions the receiver's `Rejected` metric is emitted with (read from its EMF output)."""
    variables = template["Resources"]["ReceiverFunction"]["Properties"]["Environment"]["Variables"]
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"):
        monkeypatch.setenv(name, variables[name])
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    capsys.readouterr()
    receiver._count("Rejected", Reason.SIGNATURE_INVALID.code)
    emitted = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (directive,) = emitted["_aws"]["CloudWatchMetrics"]
    (dimension_names,) = directive["Dimensions"]
    emitted_identity = (
        directive["Namespace"],
        "Rejected",
        frozenset((name, emitted[name]) for name in dimension_names),
    )
    drawn = {_identity(line) for _, line in _metric_lines(_body(template, _resolver(template)))}
    assert emitted_identity in drawn
    refused = {identity for identity in drawn if identity is not None and identity[1] == "Rejected"}
    assert {dict(identity[2])["reason"] for identity in refused} == {reason.code for reason in Reason}
    assert {dict(identity[2])["service"] for identity in refused} == {RECEIVER}


def test_the_dashboard_is_named_after_the_stack_s_suffix(template: Document) -> None:
    name = template["Resources"]["Dashboard"]["Properties"]["DashboardName"]
    names = StackNames(CONFIG_IN_FORCE.name_prefix)
    assert sub_text(name) == names.dashboard.pattern
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", names.dashboard.for_suffix(SUFFIX))


def _one_graph(**graph: Any) -> list[Section]:
    metric = MetricSpec("AWS/Lambda", "Errors", (("FunctionName", "f"),))
    return [Section("Section", (Graph(**{"title": "Graph", "metrics": (metric,), **graph}),))]


def test_what_the_dashboard_cannot_write_is_refused_when_generating() -> None:
    names = StackNames(CONFIG_IN_FORCE.name_prefix)
    with pytest.raises(ValueError, match="Fn::Sub placeholder"):
        build_dashboard(names, _one_graph(title="costs ${a lot}"))
    selected = MetricSpec("AWS/WAFV2", "BlockedRequests", (("WebACL", Select(0, Split("|", Ref("WebAcl")))),))
    with pytest.raises(TypeError, match="a Ref, a GetAtt or an Fn::Sub text"):
        build_dashboard(names, _one_graph(metrics=(selected,)))
    two_conditions = [*_one_graph(condition="HasWaf"), *_one_graph(condition="HasOrderedDeliveryTopic")]
    with pytest.raises(ValueError, match="one condition at most"):
        build_dashboard(names, two_conditions)


def test_graphs_wrap_into_rows_of_three_under_their_section_s_header() -> None:
    metric = MetricSpec("AWS/Lambda", "Errors")
    sections = [Section("Four", tuple(Graph(f"g{i}", metrics=(metric,)) for i in range(4)))]
    widgets = dashboard_body(sections, conditions_hold=True)["widgets"]
    assert [(w["type"], w["x"], w["y"], w["width"]) for w in widgets] == [
        ("text", 0, 0, 24),
        ("metric", 0, 1, 8),
        ("metric", 8, 1, 8),
        ("metric", 16, 1, 8),
        ("metric", 0, 7, 8),
    ]
