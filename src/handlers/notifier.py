"""Lambda entry point of the notifier: the processor's on-success destination record -> SNS.

Environment: TRANSACTIONS_TABLE_NAME, EVENTS_TOPIC_ARN, FUNCTION_TIMEOUT_SECONDS (the time budget of
every AWS call, handlers.aws.CallBudget), POWERTOOLS_* (logging, metrics).
Every failure raises, so that Lambda retries (twice) and then dead-letters the record.
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics

from handlers.asynchronous import run_counted
from handlers.aws import AwsClients, DynamoTransactions, Once, SnsPublisher
from handlers.core.fields import utc_iso
from handlers.core.notifying import notify

logger = Logger()
metrics = EphemeralMetrics()


@dataclass
class Dependencies:
    clients: AwsClients
    table_name: str
    topic_arn: str

    @cached_property
    def store(self) -> DynamoTransactions:
        return DynamoTransactions(self.clients("dynamodb"), self.table_name)

    @cached_property
    def publisher(self) -> SnsPublisher:
        return SnsPublisher(self.clients("sns"), self.topic_arn)

    @classmethod
    def from_environment(cls) -> "Dependencies":
        return cls(AwsClients(), os.environ["TRANSACTIONS_TABLE_NAME"], os.environ["EVENTS_TOPIC_ARN"])


DEPENDENCIES = Once(Dependencies.from_environment)


def _outcome(result: dict[str, Any]) -> str:
    if result["published"]:
        return "Published"
    return "QuarantineNotPublished" if result.get("quarantined") else "AlreadyPublished"


@logger.inject_lambda_context(correlation_id_path="requestPayload.correlation_id")
@metrics.log_metrics(capture_cold_start_metric=True)  # type: ignore[untyped-decorator]
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 (Lambda's signature)
    deps = DEPENDENCIES.get()
    return run_counted(
        lambda: notify(event, deps.store, deps.publisher, utc_iso(datetime.now(UTC))),
        lambda result: (_outcome(result), result["transaction_id"]),
        logger=logger,
        metrics=metrics,
        failure="notifying failed",
    )
