"""Alarms: anything waiting in a dead-letter queue, function errors and throttles, API 5xx, quarantine."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub
from troposphere.cloudwatch import Alarm, MetricDimension
from troposphere.logs import MetricFilter, MetricTransformation
from troposphere.sns import Topic

from templates.api import Api
from templates.contract import PROVIDER_EVENT_RETENTION_DAYS, RECONCILED_PROVIDERS
from templates.functions import Functions, stack_namespace
from templates.messaging import Messaging
from templates.naming import StackNames


@dataclass(frozen=True)
class AlarmSpec:
    title: str
    name: str
    description: str
    namespace: str | Sub
    metric: str
    dimensions: list[MetricDimension]
    statistic: str = "Sum"
    threshold: float = 0


QUARANTINE_METRIC = "Quarantined"
QUARANTINE_LOG_MESSAGE = "quarantined"
"""What the processor logs (JSON `message`) when it first stores a quarantined delivery."""


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


LAG_ALARM_FRACTION = 0.5
"""The cursor-lag alarm fires when the cursor is half the provider's retention behind: time enough to
fix the cause and catch up before events fall off the log."""


def reconciler_alarm_specs(functions: Functions) -> list[AlarmSpec]:
    """Per provider: an event had to be recovered, the event log failed, the cursor falls behind towards
    the retention horizon, and events were already past it."""
    specs = []
    for provider in RECONCILED_PROVIDERS:
        name = provider.capitalize()
        dimensions = [
            MetricDimension(Name="provider", Value=provider),
            MetricDimension(Name="service", Value=functions.reconciler.role_name),
        ]
        retention_seconds = PROVIDER_EVENT_RETENTION_DAYS[provider] * 86400
        specs += [
            AlarmSpec(
                title=f"{name}ReconcileRecoveredAlarm",
                name=f"{provider}-recovered",
                description=(
                    f"The reconciler found {name} events that no delivery brought and handed them to the "
                    "processor: a delivery path is broken (endpoint, signing secret, WAF). Look at the "
                    "items with ingested_via = reconcile (docs/reconciliation.md)."
                ),
                namespace=stack_namespace(),
                metric="Missing",
                dimensions=dimensions,
            ),
            AlarmSpec(
                title=f"{name}ReconcileFailuresAlarm",
                name=f"{provider}-log-failures",
                description=(
                    f"{name}'s event log failed the reconciler (5xx, refused credentials, throttling): the "
                    "cursor holds and the next run resumes; see the reconciler's log group."
                ),
                namespace=stack_namespace(),
                metric="Failures",
                dimensions=dimensions,
            ),
            AlarmSpec(
                title=f"{name}ReconcileLagAlarm",
                name=f"{provider}-cursor-lag",
                description=(
                    f"The reconciler's {name} cursor is more than half of {name}'s "
                    f"{PROVIDER_EVENT_RETENTION_DAYS[provider]}-day event retention behind: past it, events "
                    "cannot be recovered. Run `tapstack reconcile` or fix what stops the runs."
                ),
                namespace=stack_namespace(),
                metric="CursorLagSeconds",
                dimensions=dimensions,
                statistic="Maximum",
                threshold=retention_seconds * LAG_ALARM_FRACTION,
            ),
            AlarmSpec(
                title=f"{name}ReconcileBeyondRetentionAlarm",
                name=f"{provider}-past-retention",
                description=(
                    f"Part of the span the reconciler had to cover was older than {name} keeps events: "
                    "events created then and never delivered cannot be recovered from the log."
                ),
                namespace=stack_namespace(),
                metric="BeyondRetentionSeconds",
                dimensions=dimensions,
                statistic="Maximum",
            ),
        ]
    return specs


def _alarm(names: StackNames, spec: AlarmSpec, topic: Topic) -> Alarm:
    """Fire on the first occurrence within a minute: every one of these means an event needs a look."""
    return Alarm(
        spec.title,
        AlarmName=names.alarm(spec.name).sub(),
        AlarmDescription=spec.description,
        Namespace=spec.namespace,
        MetricName=spec.metric,
        Dimensions=spec.dimensions,
        Statistic=spec.statistic,
        Period=60,
        EvaluationPeriods=1,
        Threshold=spec.threshold,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic.ref()],
        OKActions=[topic.ref()],
    )


def build_alarms(
    names: StackNames, functions: Functions, messaging: Messaging, api: Api
) -> list[Alarm | MetricFilter]:
    # One failed event is one message on its queue (the on-failure record; no DeadLetterConfig beside it,
    # E9031), so each datapoint counts the failed events waiting. SQS reports the queue depth once a
    # minute: Maximum over 60 s is that count, where Sum would add up any extra sample in the minute.
    specs: list[AlarmSpec] = [
        AlarmSpec(
            title=f"{role.capitalize()}DeadLettersAlarm",
            name=f"{role}-dead-letters",
            description=(
                f"Events the {role} could not handle after its retries wait in its dead-letter queue. "
                f"Fix the cause, then replay them (make replay FUNCTION={role})."
            ),
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions=[MetricDimension(Name="QueueName", Value=GetAtt(queue, "QueueName"))],
            statistic="Maximum",
        )
        for role, queue in messaging.dead_letter_queues.items()
    ]
    function_metrics = {
        "Errors": "raised errors; see its log group for the correlation ids.",
        "Throttles": "was throttled: check reserved and account concurrency.",
    }
    specs += [
        AlarmSpec(
            title=f"{stack_function.role_name.capitalize()}{metric}Alarm",
            name=f"{stack_function.role_name}-{metric.lower()}",
            description=f"The {stack_function.role_name} function {meaning}",
            namespace="AWS/Lambda",
            metric=metric,
            dimensions=[MetricDimension(Name="FunctionName", Value=stack_function.function.ref())],
        )
        for stack_function in functions.all()
        for metric, meaning in function_metrics.items()
    ]
    specs.append(
        AlarmSpec(
            title="Api5xxAlarm",
            name="api-5xx",
            description="The API answered 5xx: providers retry, but the receiver or its hand-off is failing.",
            namespace="AWS/ApiGateway",
            metric="5XXError",
            dimensions=[
                MetricDimension(Name="ApiName", Value=names.api.sub()),
                MetricDimension(Name="Stage", Value=Ref(api.stage)),
            ],
        )
    )
    specs.append(
        AlarmSpec(
            title="QuarantinedAlarm",
            name="quarantined",
            description=(
                "A verified delivery could not be normalised and was stored in quarantine (not published). "
                "Find it by its quarantine_reason in the table, fix the cause, then reprocess it."
            ),
            namespace=stack_namespace(),
            metric=QUARANTINE_METRIC,
            dimensions=[],
        )
    )
    specs += reconciler_alarm_specs(functions)
    return [
        *(_alarm(names, spec, messaging.alarm_topic) for spec in specs),
        _quarantine_metric_filter(functions),
    ]
