"""What the stack watches: the dashboard's sections of graphs and, on some of their metrics, alarms for
anything waiting in a dead-letter queue, function errors and throttles, API 5xx, quarantine, and the
reconciler's recoveries, failures and lag per provider.

Each alarm is declared on the graph that draws its metric (templates/metrics.py), so the alarms built
here and the dashboard (templates/dashboard.py) come from one list.
"""

from __future__ import annotations

from troposphere import GetAtt, Ref
from troposphere.cloudwatch import Alarm
from troposphere.logs import MetricFilter, MetricTransformation
from troposphere.sns import Topic

from handlers.core.errors import Reason
from templates.api import Api
from templates.contract import (
    PROVIDER_EVENT_RETENTION_DAYS,
    RECEIVER,
    RECONCILED_PROVIDERS,
    RECONCILER_METRICS,
)
from templates.functions import METRICS_NAMESPACE, Functions, StackFunction, stack_namespace
from templates.messaging import Messaging
from templates.metrics import PERCENTILES, AlarmSpec, Graph, MetricSpec, Search, Section
from templates.naming import StackNames
from templates.parameters import StackParameters

QUARANTINE_METRIC = "Quarantined"
QUARANTINE_LOG_MESSAGE = "quarantined"
"""What the processor logs (JSON `message`) when it first stores a quarantined delivery."""
SERVICE_DIMENSION = "service"
"""The dimension Powertools gives each function's own metrics: its POWERTOOLS_SERVICE_NAME, the role."""
REASON_DIMENSION = "reason"
"""The receiver's second dimension of `Rejected` (a Reason code) and `QuarantinedOnReceipt`."""


def _quarantine_metric_filter(functions: Functions) -> MetricFilter:
    """Counted from the processor's own log group, so the metric is this stack's alone: the
    Powertools namespace is shared by every stack in the account, a log group is not."""
    return MetricFilter(
        "QuarantinedMetricFilter",
        LogGroupName=functions.processor.log_group.ref(),
        FilterPattern=f'{{ $.message = "{QUARANTINE_LOG_MESSAGE}" }}',
        MetricTransformations=[
            MetricTransformation(
                MetricNamespace=stack_namespace(),
                MetricName=QUARANTINE_METRIC,
                MetricValue="1",
                Unit="Count",
            )
        ],
    )


def _alarm(names: StackNames, spec: AlarmSpec, topic: Topic, condition: str | None) -> Alarm:
    """Fire on the first occurrence within a minute: every one of these means an event needs a look."""
    return Alarm(
        spec.title,
        **({} if condition is None else {"Condition": condition}),
        AlarmName=names.alarm(spec.name).sub(),
        AlarmDescription=spec.description,
        Namespace=spec.metric.namespace,
        MetricName=spec.metric.name,
        Dimensions=spec.metric.alarm_dimensions(),
        Statistic=spec.statistic,
        Period=60,
        EvaluationPeriods=1,
        Threshold=spec.threshold,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic.ref()],
        OKActions=[topic.ref()],
    )


def _function_metric(role: str, name: str, label: str | None = None) -> MetricSpec:
    """A metric the function `role` emits through Powertools."""
    return MetricSpec(METRICS_NAMESPACE, name, ((SERVICE_DIMENSION, role),), label=label)


def _deliveries() -> Section:
    quarantined = AlarmSpec(
        title="QuarantinedAlarm",
        name="quarantined",
        description=(
            "A verified delivery could not be normalised and was stored in quarantine (not published). "
            "Find it by its quarantine_reason in the table, fix the cause, then reprocess it."
        ),
        metric=MetricSpec(stack_namespace(), QUARANTINE_METRIC, label="quarantined (stored)"),
    )
    refused = tuple(
        MetricSpec(
            METRICS_NAMESPACE,
            "Rejected",
            ((REASON_DIMENSION, reason.code), (SERVICE_DIMENSION, RECEIVER)),
            label=reason.code,
        )
        for reason in Reason
    )
    return Section(
        "Deliveries",
        (
            Graph(
                "Received, accepted, quarantined",
                metrics=(
                    _function_metric(RECEIVER, "Received", "received"),
                    _function_metric(RECEIVER, "Accepted", "accepted"),
                ),
                alarms=(quarantined,),
                searches=(
                    Search(
                        "quarantined on receipt",
                        f"{{{METRICS_NAMESPACE},{REASON_DIMENSION},{SERVICE_DIMENSION}}}",
                        f'MetricName="QuarantinedOnReceipt" {SERVICE_DIMENSION}="{RECEIVER}"',
                    ),
                ),
            ),
            Graph("Refused by reason", metrics=refused),
        ),
    )


def _function_graphs(stack_function: StackFunction) -> tuple[Graph, ...]:
    role = stack_function.role_name
    meanings = {
        "Errors": "raised errors; see its log group for the correlation ids.",
        "Throttles": "was throttled: check reserved and account concurrency.",
    }

    def lambda_metric(name: str) -> MetricSpec:
        return MetricSpec("AWS/Lambda", name, (("FunctionName", stack_function.function.ref()),), label=name)

    return (
        Graph(
            f"{role}: errors and throttles",
            alarms=tuple(
                AlarmSpec(
                    title=f"{role.capitalize()}{metric}Alarm",
                    name=f"{role}-{metric.lower()}",
                    description=f"The {role} function {meaning}",
                    metric=lambda_metric(metric),
                )
                for metric, meaning in meanings.items()
            ),
        ),
        Graph(f"{role}: duration (ms)", metrics=(lambda_metric("Duration"),), statistics=PERCENTILES),
        Graph(
            f"{role}: outcomes",
            searches=(
                Search(role, f"{{{METRICS_NAMESPACE},{SERVICE_DIMENSION}}}", f'{SERVICE_DIMENSION}="{role}"'),
            ),
        ),
    )


def _dead_letters(messaging: Messaging) -> Section:
    # One failed event is one message on its queue (the on-failure record; no DeadLetterConfig beside it,
    # E9031), so each datapoint counts the failed events waiting. SQS reports the queue depth once a
    # minute: Maximum over 60 s is that count, where Sum would add up any extra sample in the minute.
    alarms = tuple(
        AlarmSpec(
            title=f"{role.capitalize()}DeadLettersAlarm",
            name=f"{role}-dead-letters",
            description=(
                f"Events the {role} could not handle after its retries wait in its dead-letter queue. "
                f"Fix the cause, then replay them (make replay FUNCTION={role})."
            ),
            metric=MetricSpec(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                (("QueueName", GetAtt(queue, "QueueName")),),
                label=role,
            ),
            statistic="Maximum",
        )
        for role, queue in messaging.dead_letter_queues.items()
    )
    return Section("Dead letters", (Graph("Failed events waiting", alarms=alarms, statistics=("Maximum",)),))


def _api(names: StackNames, api: Api) -> Section:
    def api_metric(name: str) -> MetricSpec:
        dimensions = (("ApiName", names.api.sub()), ("Stage", Ref(api.stage)))
        return MetricSpec("AWS/ApiGateway", name, dimensions, label=name)

    server_errors = AlarmSpec(
        title="Api5xxAlarm",
        name="api-5xx",
        description="The API answered 5xx: providers retry, but the receiver or its hand-off is failing.",
        metric=api_metric("5XXError"),
    )
    return Section(
        "API",
        (
            Graph(
                "Requests, 4xx, 5xx",
                metrics=(api_metric("Count"), api_metric("4XXError")),
                alarms=(server_errors,),
            ),
            Graph("Latency (ms)", metrics=(api_metric("Latency"),), statistics=PERCENTILES),
        ),
    )


LAG_ALARM_FRACTION = 0.5
"""The cursor-lag alarm fires when the cursor is half the provider's retention behind: time enough to
fix the cause and catch up before events fall off the log."""


def _reconciliation(functions: Functions) -> Section:
    """Per provider: events listed, missing (an alarm: a delivery path is broken), ingested and failed
    runs (an alarm), and how far the cursor lags towards the retention horizon (alarms)."""
    role = functions.reconciler.role_name

    def metric(provider: str, name: str) -> MetricSpec:
        dimensions = (("provider", provider), (SERVICE_DIMENSION, role))
        return MetricSpec(stack_namespace(), name, dimensions, label=f"{provider} {name}")

    graphs: list[Graph] = []
    for provider in RECONCILED_PROVIDERS:
        name = provider.capitalize()
        days = PROVIDER_EVENT_RETENTION_DAYS[provider]
        recovered = AlarmSpec(
            title=f"{name}ReconcileRecoveredAlarm",
            name=f"{provider}-recovered",
            description=(
                f"The reconciler found {name} events that no delivery brought and handed them to the "
                "processor: a delivery path is broken (endpoint, signing secret, WAF). Look at the "
                "items with ingested_via = reconcile (docs/reconciliation.md)."
            ),
            metric=metric(provider, "Missing"),
        )
        failures = AlarmSpec(
            title=f"{name}ReconcileFailuresAlarm",
            name=f"{provider}-log-failures",
            description=(
                f"{name}'s event log failed the reconciler (5xx, refused credentials, throttling): the "
                "cursor holds and the next run resumes; see the reconciler's log group."
            ),
            metric=metric(provider, "Failures"),
        )
        lag = AlarmSpec(
            title=f"{name}ReconcileLagAlarm",
            name=f"{provider}-cursor-lag",
            description=(
                f"The reconciler's {name} cursor is more than half of {name}'s {days}-day event "
                "retention behind: past it, events cannot be recovered. Run `tapstack reconcile` or fix "
                "what stops the runs."
            ),
            metric=metric(provider, "CursorLagSeconds"),
            statistic="Maximum",
            threshold=days * 86400 * LAG_ALARM_FRACTION,
        )
        beyond = AlarmSpec(
            title=f"{name}ReconcileBeyondRetentionAlarm",
            name=f"{provider}-past-retention",
            description=(
                f"Part of the span the reconciler had to cover was older than {name} keeps events: "
                "events created then and never delivered cannot be recovered from the log."
            ),
            metric=metric(provider, "BeyondRetentionSeconds"),
            statistic="Maximum",
        )
        alarmed = {spec.metric.name for spec in (recovered, failures, lag, beyond)}
        counted = tuple(metric(provider, m) for m in RECONCILER_METRICS if m not in alarmed)
        graphs += [
            Graph(
                f"{provider}: events listed, missing, ingested", metrics=counted, alarms=(recovered, failures)
            ),
            Graph(f"{provider}: cursor lag (s)", alarms=(lag, beyond), statistics=("Maximum",)),
        ]
    return Section("Reconciliation", tuple(graphs))


def build_sections(
    names: StackNames,
    params: StackParameters,
    functions: Functions,
    messaging: Messaging,
    api: Api,
    waf_metrics: tuple[MetricSpec, ...],
) -> list[Section]:
    """Everything watched, in dashboard order; per-function graphs for each of the template's functions."""
    return [
        _deliveries(),
        *(Section(f"Function {f.role_name}", _function_graphs(f)) for f in functions.all()),
        _dead_letters(messaging),
        _api(names, api),
        _reconciliation(functions),
        Section(
            "Web application firewall",
            (Graph("Allowed and blocked requests", metrics=waf_metrics, condition=params.has_waf),),
        ),
    ]


def build_alarms(
    names: StackNames, sections: list[Section], functions: Functions, messaging: Messaging
) -> list[Alarm | MetricFilter]:
    """The alarms declared in `sections`, notifying the alarm topic, and the quarantine metric filter."""
    return [
        *(
            _alarm(names, spec, messaging.alarm_topic, graph.condition)
            for section in sections
            for graph in section.graphs
            for spec in graph.alarms
        ),
        _quarantine_metric_filter(functions),
    ]
