"""What the stack measures, defined once: the alarms (templates/monitoring.py) and the dashboard
(templates/dashboard.py) are both built from these definitions, so a metric or an alarm added to a graph
is drawn on the dashboard as well."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import AWSHelperFn
from troposphere.cloudwatch import MetricDimension

PERCENTILES = ("p50", "p90", "p99")
"""The latency statistics drawn for durations."""


@dataclass(frozen=True)
class MetricSpec:
    """One CloudWatch metric: namespace, name and dimensions (values literal or CloudFormation
    intrinsics), and the label the dashboard gives it."""

    namespace: str | AWSHelperFn
    name: str
    dimensions: tuple[tuple[str, str | AWSHelperFn], ...] = ()
    label: str | None = None

    def alarm_dimensions(self) -> list[MetricDimension]:
        return [MetricDimension(Name=name, Value=value) for name, value in self.dimensions]


@dataclass(frozen=True)
class AlarmSpec:
    """An alarm on one metric, evaluated each minute (templates/monitoring.py)."""

    title: str
    name: str
    description: str
    metric: MetricSpec
    statistic: str = "Sum"
    threshold: float = 0
    """Fires above it; 0: on the first occurrence."""


@dataclass(frozen=True)
class Search:
    """A metric math SEARCH drawn as its own lines: every metric of `schema` (`{Namespace,Dim,...}`)
    whose dimensions match `terms`, so metrics a function starts emitting appear without a change here."""

    label: str
    schema: str
    terms: str
    statistic: str = "Sum"
    period_seconds: int = 300

    def expression(self) -> str:
        return f"SEARCH('{self.schema} {self.terms}', '{self.statistic}', {self.period_seconds})"


@dataclass(frozen=True)
class Graph:
    """One dashboard widget: its metrics (those its alarms watch among them) under each of `statistics`,
    and any searches. `condition`: the template condition the graph exists under (None: always)."""

    title: str
    metrics: tuple[MetricSpec, ...] = ()
    alarms: tuple[AlarmSpec, ...] = ()
    statistics: tuple[str, ...] = ("Sum",)
    searches: tuple[Search, ...] = ()
    condition: str | None = None

    def all_metrics(self) -> tuple[MetricSpec, ...]:
        return (*self.metrics, *(alarm.metric for alarm in self.alarms))


@dataclass(frozen=True)
class Section:
    """A titled row of graphs on the dashboard."""

    title: str
    graphs: tuple[Graph, ...]
