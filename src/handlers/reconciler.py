"""Lambda entry point of the reconciler (scheduled by EventBridge Scheduler; reserved concurrency 1).

For each provider whose read-only API credentials are in the webhook secret, list its event log behind
the stored cursor and hand every event the table lacks to the processor, as the receiver does
(handlers.core.reconciling). Counts per provider, in the stack's own namespace: Listed, Missing,
Ingested, Failures, CursorLagSeconds, BeyondRetentionSeconds. A provider failing is counted and the
run goes on (the cursor holds; the next run resumes); anything else raises, to the on-failure queue.

Environment: TRANSACTIONS_TABLE_NAME, RECONCILIATION_TABLE_NAME, PROCESSOR_FUNCTION_NAME,
WEBHOOK_SECRET_ARN, STACK_METRICS_NAMESPACE, FUNCTION_TIMEOUT_SECONDS, POWERTOOLS_* (logging, metrics).
"""

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from handlers.aws import (
    SEQUENTIAL_CALLS,
    AwsClients,
    DynamoCursors,
    DynamoKnownTransactions,
    LambdaDispatcher,
    Once,
    secret_string,
)
from handlers.core.model import HandOff
from handlers.core.reconciling import EventLog, Reconciler, Report, Settings
from handlers.core.secrets import ApiCredentials
from handlers.providers import paypal_events, stripe_events
from handlers.providers.api_calls import Fetch, urllib_fetch

if TYPE_CHECKING:  # for the annotations only: the cold start does not import it
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()

PROVIDERS = ("stripe", "paypal")
RESERVE_SECONDS = 10.0
"""Kept from the function's remaining time for saving the cursor and reporting: the run ends before
Lambda's timeout and the next one resumes."""
CALL_TIMEOUT_SECONDS = 10.0
METRICS = {
    "Listed": "listed",
    "Missing": "missing",
    "Ingested": "ingested",
    "Failures": "failures",
}
"""Counted per provider (dimension `provider`): the metric name and the Report field it counts."""
LAG_METRIC = "CursorLagSeconds"
BEYOND_RETENTION_METRIC = "BeyondRetentionSeconds"


@dataclass
class Dependencies:
    clients: AwsClients
    table_name: str
    state_table_name: str
    processor_function_name: str
    secret_arn: str
    metrics_namespace: str
    api_bases: Mapping[str, str] = field(default_factory=dict)
    """Provider -> API base URL instead of the provider's own (the local stand-ins)."""
    fetch: Fetch = field(default_factory=lambda: urllib_fetch(CALL_TIMEOUT_SECONDS))
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_environment(cls) -> "Dependencies":
        return cls(
            clients=AwsClients(sequential_calls=SEQUENTIAL_CALLS["reconciler"]),
            table_name=os.environ["TRANSACTIONS_TABLE_NAME"],
            state_table_name=os.environ["RECONCILIATION_TABLE_NAME"],
            processor_function_name=os.environ["PROCESSOR_FUNCTION_NAME"],
            secret_arn=os.environ["WEBHOOK_SECRET_ARN"],
            metrics_namespace=os.environ["STACK_METRICS_NAMESPACE"],
        )

    def credentials(self) -> ApiCredentials:
        return ApiCredentials.from_secret_string(
            secret_string(self.clients("secretsmanager"), self.secret_arn)
        )

    def event_log(self, provider: str, credentials: ApiCredentials) -> EventLog:
        if provider == "stripe":
            base = self.api_bases.get("stripe", stripe_events.API_BASE)
            return stripe_events.StripeEvents(credentials.stripe_api_keys, self.fetch, base)
        base = self.api_bases.get("paypal", paypal_events.API_BASES[credentials.paypal_environment])
        return paypal_events.PaypalEvents(credentials.paypal_api_credentials, self.fetch, base, self.clock)

    def reconciler(self, provider: str, credentials: ApiCredentials, *, apply: bool) -> Reconciler:
        dispatcher = LambdaDispatcher(self.clients("lambda"), self.processor_function_name)

        def dispatch(handoff: HandOff) -> None:
            dispatcher.dispatch(handoff.to_json())

        return Reconciler(
            self.event_log(provider, credentials),
            DynamoKnownTransactions(self.clients("dynamodb"), self.table_name, self.sleep),
            dispatch if apply else None,
            self.clock,
            self.sleep,
            Settings(call_seconds=CALL_TIMEOUT_SECONDS),
        )


DEPENDENCIES = Once(Dependencies.from_environment)


def _publish(report: Report, namespace: str) -> None:
    counts = {name: getattr(report, attribute) for name, attribute in METRICS.items()}
    values: dict[str, tuple[float, MetricUnit]] = {  # not money: counts and seconds
        name: (float(len(value) if isinstance(value, list) else value), MetricUnit.Count)  # not money: counts
        for name, value in counts.items()
    }
    values[LAG_METRIC] = (float(report.lag_seconds), MetricUnit.Seconds)  # not money: seconds
    beyond = float(report.beyond_retention_seconds)  # not money: seconds
    values[BEYOND_RETENTION_METRIC] = (beyond, MetricUnit.Seconds)
    for name, (value, unit) in values.items():
        with single_metric(name=name, unit=unit, value=value, namespace=namespace) as metric:
            metric.add_dimension(name="provider", value=report.provider)


@logger.inject_lambda_context
def handler(event: object, context: "LambdaContext") -> dict[str, object]:  # noqa: ARG001 (the schedule's input is not read)
    deps = DEPENDENCIES.get()
    deadline = deps.clock() + context.get_remaining_time_in_millis() / 1000 - RESERVE_SECONDS
    credentials = deps.credentials()
    cursors = DynamoCursors(deps.clients("dynamodb"), deps.state_table_name)
    reports = []
    for provider in PROVIDERS:
        if not credentials.configured(provider):
            continue
        report = deps.reconciler(provider, credentials, apply=True).run(cursors, deadline)
        _publish(report, deps.metrics_namespace)
        summary = {
            key: value for key, value in report.to_json().items() if key not in ("missing", "ingested")
        }
        if report.missing:
            logger.warning(
                "recovered events no delivery brought", extra=summary | {"ingested": report.ingested}
            )
        elif report.failures:
            logger.warning("the provider's event log failed", extra=summary)
        else:
            logger.info("reconciled", extra=summary)
        reports.append(report.to_json())
    return {"reports": reports}
