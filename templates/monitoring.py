"""Alarms: anything waiting in a dead-letter queue, function errors and throttles, API 5xx, quarantine."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub
from troposphere.cloudwatch import Alarm, MetricDimension
from troposphere.logs import MetricFilter, MetricTransformation
from troposphere.sns import Topic

from templates.api import Api
from templates.functions import METRICS_NAMESPACE, Functions
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
                MetricNamespace=_stack_namespace(),
                MetricName=QUARANTINE_METRIC,
                MetricValue="1",
                Unit="Count",
            )
        ],
    )


def _stack_namespace() -> Sub:
    return Sub(f"{METRICS_NAMESPACE}/${{AWS::StackName}}")


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
        Threshold=0,
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
            namespace=_stack_namespace(),
            metric=QUARANTINE_METRIC,
            dimensions=[],
        )
    )
    return [
        *(_alarm(names, spec, messaging.alarm_topic) for spec in specs),
        _quarantine_metric_filter(functions),
    ]
